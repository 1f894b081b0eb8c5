"""The mapping step of a CSV import: which column is which canonical field.

A guessed mapping compares each header with each field's names (the field, its words, common
aliases: "Close Value" is an amount, "Deal Stage" a stage) by rapidfuzz similarity and takes the
best pairs; the user sees it, can save it, edit it and reuse it. A saved mapping is an ordinary
mapping file (`pssync.mapping.spec`) of system ``csv``, so conversions, crosswalks and their
"did you mean" suggestions are the same as a connector's.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from rapidfuzz import fuzz

from pssync.mapping.spec import MappingSpec, load_spec
from pssync.mapping.suggest import squash
from pssync.model import ENTITY_TYPES, Money
from pssync.model.commercial import OpportunityLineItem

SYSTEM = "csv"
CUTOFF = 80.0  # header-to-field similarity below which a column is left unmapped
# What users call the entities (`--entity deals`).
ENTITY_NAMES = {
    "accounts": "Account",
    "opportunities": "Opportunity",
    "deals": "Opportunity",
    "line_items": "OpportunityLineItem",
    "lines": "OpportunityLineItem",
    "projects": "Project",
    "actuals": "RevenueEvent",
    "revenue": "RevenueEvent",
    "costs": "CostActual",
    "time": "TimeEntry",
}
LINE_ITEM = "OpportunityLineItem"
# Fields naming another record of the store: the entity they name.
REFERENCES = {
    "account_id": "Account",
    "opportunity_id": "Opportunity",
    "project_id": "Project",
    "contract_line_id": "ContractLine",
    "resource_id": "Resource",
    "wbs_element_id": "WbsElement",
}
# Reference-data fields: looked up in a crosswalk of this name (vendor value -> canonical ID).
CROSSWALKS = {
    "service_line_id": "service_line",
    "region_id": "region",
    "legal_entity_id": "legal_entity",
    "tax_code_id": "tax_code",
    "role_id": "role",
    "department_id": "department",
    "revenue_method": "revenue_method",
}
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("deal", "opportunity", "title", "company", "account name", "deal name"),
    "account_id": ("account", "customer", "client", "company"),
    "opportunity_id": ("opportunity", "deal"),
    "project_id": ("project", "project code"),
    "stage": ("deal stage", "sales stage", "status"),
    "amount": ("value", "close value", "deal value", "price", "total"),
    "close_date": ("closing date", "expected close", "close"),
    "probability": ("win probability", "likelihood", "probability percent"),
    "service_line_id": ("product", "service", "service line", "practice", "product line"),
    "region_id": ("region", "territory", "office"),
    "owner": ("sales agent", "sales rep", "rep", "owner name", "account manager"),
    "created_at": ("engage date", "created", "created date", "created on"),
    "industry": ("sector", "vertical"),
    "domain": ("website", "web site", "url"),
    "recognized_date": ("date", "period", "posting date", "revenue date"),
    "hours": ("quantity", "effort", "estimated hours"),
    "rate": ("unit price", "bill rate", "hourly rate"),
}
_SKIP = {"id", "schema_version", "xrefs", "line_items", "billing_address"}


def entity_type(name: str) -> str:
    """The canonical entity type `name` means (`deals` -> Opportunity), or ValueError."""
    found = ENTITY_NAMES.get(name.strip().lower().replace("-", "_"), name.strip())
    if found != LINE_ITEM and found not in ENTITY_TYPES:
        known = ", ".join(sorted({*ENTITY_NAMES, *ENTITY_TYPES}))
        raise ValueError(f"unknown entity {name!r}; known: {known}")
    return found


def _model(entity: str) -> type[BaseModel]:
    return OpportunityLineItem if entity == LINE_ITEM else ENTITY_TYPES[entity]


def fields_of(entity: str) -> dict[str, Any]:
    """Canonical field -> its annotation, for the fields a CSV column can fill."""
    found = {
        name: info.annotation
        for name, info in _model(entity).model_fields.items()
        if name not in _SKIP
    }
    if entity == LINE_ITEM:
        found["opportunity_id"] = str
    return found


def required_fields(entity: str) -> list[str]:
    model = _model(entity)
    found = [n for n, f in model.model_fields.items() if f.is_required() and n not in _SKIP]
    return [*found, "opportunity_id"] if entity == LINE_ITEM else found


def _kind(annotation: Any) -> str | None:
    """The mapping conversion for a field's type (None: take the text as it is)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _kind(inner[0]) if len(inner) == 1 else None
    if typing.get_origin(annotation) is typing.Annotated:
        return _kind(args[0])
    if annotation is Money:
        return "money"
    for python, kind in ((bool, "bool"), (int, "int")):
        if annotation is python:
            return kind
    if annotation is Decimal:
        return "decimal"
    if annotation is dt.datetime:
        return "datetime"
    if annotation is dt.date:
        return "date"
    return None


@dataclass(frozen=True)
class Guess:
    column: str
    field: str  # a canonical field, or "id" for the record's own ID column
    score: float


def _names(entity: str, field: str) -> list[str]:
    base = field.removesuffix("_id")
    own = [entity.lower(), f"{entity.lower()} name"] if field == "name" else []
    return [field, base.replace("_", " "), *ALIASES.get(field, ()), *own]


def _score(header: str, names: list[str]) -> float:
    head = squash(header)
    return max(
        max(fuzz.ratio(head, squash(n)), fuzz.token_sort_ratio(header.lower(), n)) for n in names
    )


def guess(entity: str, headers: list[str]) -> list[Guess]:
    """The best column for each field (and for the record ID), best pairs first."""
    targets = {field: _names(entity, field) for field in fields_of(entity)}
    own = entity.lower().removeprefix("opportunity") or "opportunity"
    targets["id"] = ["id", f"{entity} id", f"{own} id", f"{entity.lower()}_id", "key", "number"]
    if entity == "Opportunity":
        targets["id"] += ["opportunity id", "deal id"]
        targets.pop("opportunity_id", None)
    scored = sorted(
        (
            (_score(header, names), header, field)
            for header in headers
            for field, names in targets.items()
        ),
        key=lambda t: -t[0],
    )
    taken_columns: set[str] = set()
    taken_fields: set[str] = set()
    found = []
    for score, header, field in scored:
        if score < CUTOFF or header in taken_columns or field in taken_fields:
            continue
        taken_columns.add(header)
        taken_fields.add(field)
        found.append(Guess(header, field, round(score / 100, 2)))
    return found


CURRENCY_NAMES = ["currency", "currency code", "currency iso code", "ccy"]


def currency_column(headers: list[str]) -> str | None:
    """The column holding each row's currency (amounts read their currency from it)."""
    scored = [(_score(h, CURRENCY_NAMES), h) for h in headers]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] >= CUTOFF + 5 else None


def spec_from(entity: str, guesses: list[Guess], headers: list[str] | None = None) -> MappingSpec:
    """A mapping file for `entity` from chosen columns (`Guess`es, scores aside); amounts take
    their currency from the file's currency column, if it has one (else the default)."""
    annotations = fields_of(entity)
    fields: dict[str, Any] = {}
    id_field = "id"
    currency = next((g.column for g in guesses if g.field == "currency"), None)
    currency = currency or currency_column(headers or []) or "currency"
    for g in guesses:
        if g.field == "id":
            id_field = g.column
            continue
        kind = _kind(annotations.get(g.field))
        if g.field in CROSSWALKS:
            fields[g.field] = {"from": g.column, "crosswalk": CROSSWALKS[g.field]}
        elif kind == "money":
            fields[g.field] = {"money": {"amount": g.column, "currency": currency}}
        elif kind is not None:
            fields[g.field] = {"from": g.column, "as": kind}
        else:
            fields[g.field] = {"from": g.column}
    walks: dict[str, dict[str, str]] = {CROSSWALKS[f]: {} for f in fields if f in CROSSWALKS}
    return MappingSpec.model_validate(
        {
            "system": SYSTEM,
            "objects": {entity: {"entity": entity, "id_field": id_field, "fields": fields}},
            "crosswalks": walks,
        }
    )


def save(spec: MappingSpec, path: Path) -> None:
    """Write the mapping as the YAML `load` reads (and a person can edit)."""
    data = spec.model_dump(by_alias=True, exclude_defaults=True, exclude_none=True)
    header = (
        "# CSV mapping saved by `pssync import --csv --save-mapping`: column -> canonical field.\n"
        "# Edit it and pass it back with --mapping; crosswalks map values to canonical IDs.\n"
    )
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")


def load(
    path: Path, entity: str, overrides: dict[str, dict[str, str]] | None = None
) -> MappingSpec:
    """A saved mapping, which must map `entity`."""
    spec = load_spec(path, overrides)
    if entity not in spec.objects:
        raise ValueError(f"{path} maps {', '.join(spec.objects) or 'nothing'}, not {entity}")
    return spec


def missing_required(entity: str, spec: MappingSpec) -> list[str]:
    """Required fields no column fills (every row would be refused for them). A record without
    a name column is named by its ID column (`csv_import`)."""
    mapped = set(spec.objects[entity].fields) | {"name"}
    return [f for f in required_fields(entity) if f not in mapped]
