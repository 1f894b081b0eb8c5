"""The declarative mapping language (YAML, validated by pydantic; no `eval` anywhere).

A field rule says how one canonical field is computed from a vendor record:

    name: Name                                  # rename
    close_date: {from: CloseDate, as: date}     # conversion: date, datetime, decimal, int, bool...
    amount: {money: {amount: Amount, currency: CurrencyIsoCode}}
    amount: {money: {amount: Amount, currency: CurrencyIsoCode, currency_default: USD}}
                                                # a record without a currency is in USD
    service_line_id: {from: Service_Category__c, crosswalk: service_line}
    status: {const: active}
    full_name: {concat: [$FirstName, " ", $LastName]}    # $Field is a field, the rest literal
    billing_address.country: BillingCountry     # a dotted name fills a nested canonical object
    legal_name: {from: Name1, fallback: name}   # written from `name` while legal_name is unknown
    region_id: {from: Region__c, crosswalk: region, default: reg-na}     # default when empty
    revenue_method: {when: {field: Type, in: [Fixed Fee]}, then: {const: fixed_fee},
                     else: {const: time_and_materials}}                   # conditional
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Conversion = Literal[
    "str", "date", "datetime", "decimal", "int", "bool", "minutes_to_hours", "cents", "domain"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MoneyRule(_Strict):
    amount: str
    currency: str | None = None
    currency_const: str | None = None
    # The currency of a record whose `currency` field is empty or absent (a single-currency
    # Salesforce org has no CurrencyIsoCode at all); pssync.yaml sets it (`apply_default_currency`).
    currency_default: str | None = None
    scale: Literal["units", "cents"] = "units"

    @model_validator(mode="after")
    def _one_currency(self) -> MoneyRule:
        if (self.currency is None) == (self.currency_const is None):
            raise ValueError("give exactly one of currency (a field) or currency_const")
        return self


class Condition(_Strict):
    field: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    missing: bool | None = None


class FieldRule(_Strict):
    from_: str | None = Field(default=None, alias="from")
    as_: Conversion | None = Field(default=None, alias="as")
    format: str | None = None
    const: Any = None
    crosswalk: str | None = None
    concat: list[str] | None = None
    money: MoneyRule | None = None
    default: Any = None
    when: Condition | None = None
    then: FieldRule | None = None
    else_: FieldRule | None = Field(default=None, alias="else")
    write: bool = True
    fallback: str | None = None  # canonical field written instead when this one is empty

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        sources = [
            name
            for name, value in (
                ("from", self.from_),
                ("const", self.const),
                ("concat", self.concat),
                ("money", self.money),
                ("when", self.when),
            )
            if value is not None
        ]
        if len(sources) != 1:
            raise ValueError(
                f"a field rule needs exactly one of from/const/concat/money/when, got {sources}"
            )
        if self.when is not None and self.then is None:
            raise ValueError("a `when` rule needs `then`")
        return self


class ObjectMap(_Strict):
    """How one vendor object maps to one canonical entity."""

    entity: str
    id_field: str = "Id"
    external_id_field: str | None = None
    modified_field: str | None = None
    fields: dict[str, FieldRule]

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            data = dict(data)
            data["fields"] = {
                k: {"from": v} if isinstance(v, str) else v for k, v in data["fields"].items()
            }
        return data


class MappingSpec(_Strict):
    """A connector's mapping file: object maps plus the crosswalks they use."""

    system: str
    objects: dict[str, ObjectMap]
    crosswalks: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _crosswalks_exist(self) -> MappingSpec:
        for obj, omap in self.objects.items():
            for name, rule in omap.fields.items():
                for used in _crosswalks_of(rule):
                    if used not in self.crosswalks:
                        raise ValueError(
                            f"objects.{obj}.fields.{name}: crosswalk {used!r} is not defined"
                        )
        return self

    def used_crosswalks(self) -> set[str]:
        """The crosswalks some field rule looks values up in."""
        return {
            used
            for omap in self.objects.values()
            for rule in omap.fields.values()
            for used in _crosswalks_of(rule)
        }

    def apply_default_currency(self, currency: str) -> None:
        """Give every money rule that reads its currency from a field `currency` as the
        currency of records that leave the field empty (unless the rule names its own)."""
        for omap in self.objects.values():
            for rule in omap.fields.values():
                for money in _money_rules(rule):
                    if money.currency is not None and money.currency_default is None:
                        money.currency_default = currency


def _money_rules(rule: FieldRule) -> list[MoneyRule]:
    found = [rule.money] if rule.money is not None else []
    for sub in (rule.then, rule.else_):
        if sub is not None:
            found += _money_rules(sub)
    return found


def _crosswalks_of(rule: FieldRule) -> list[str]:
    found = [rule.crosswalk] if rule.crosswalk else []
    for sub in (rule.then, rule.else_):
        if sub is not None:
            found += _crosswalks_of(sub)
    return found


class MappingFileError(ValueError):
    """A mapping file that does not parse or validate; names the file and the key."""


def load_spec(path: Path, overrides: dict[str, dict[str, str]] | None = None) -> MappingSpec:
    """Load a mapping file; `overrides` extends its crosswalks (e.g. from pssync.yaml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingFileError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise MappingFileError(f"invalid mapping file {path}: not a mapping of keys")
    if overrides:
        walks = data.setdefault("crosswalks", None) or {}
        data["crosswalks"] = walks
        for name, entries in overrides.items():
            walks[name] = {**(walks.get(name) or {}), **entries}
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors(include_input=False)
        ]
        raise MappingFileError(f"invalid mapping file {path}:\n" + "\n".join(lines)) from None
