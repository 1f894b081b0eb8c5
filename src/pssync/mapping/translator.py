"""Message Translator: vendor record <-> canonical payload, driven by a MappingSpec.

Every problem in a record is collected, not just the first, and each names the record, the field
and — for a value missing from a crosswalk — the value and the crosswalk to extend. An unmapped
value never falls back to a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pssync.mapping.convert import convert, convert_back, to_decimal
from pssync.mapping.spec import Condition, FieldRule, MappingSpec, ObjectMap
from pssync.mapping.suggest import Suggestion, suggest


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    value: Any = None
    crosswalk: str | None = None
    # For a crosswalk miss: the crosswalk's known values most like the value, best first.
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def kind(self) -> str:
        return "unmapped_value" if self.crosswalk else "conversion"


class TranslationError(ValueError):
    """A record that could not be translated; `problems` lists every failing field."""

    def __init__(self, system: str, obj: str, record_id: str, problems: list[Problem]) -> None:
        self.system, self.object, self.record_id, self.problems = system, obj, record_id, problems
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"{system} {obj} {record_id}: {detail}")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Translator:
    """Applies one system's mapping spec in both directions."""

    def __init__(self, spec: MappingSpec) -> None:
        self.spec = spec
        # Per object: its field rules with each canonical name split once (a sync translates
        # hundreds of thousands of records through the same few rules). Kept with the rules
        # dict they were made from, so a spec edited in place is planned again.
        self._plans: dict[str, tuple[object, list[tuple[str, FieldRule, list[str]]]]] = {}
        # Per crosswalk: its keys case-folded, for values that miss the exact key (made again
        # when the crosswalk is replaced or grows).
        self._folded: dict[str, tuple[object, int, dict[str, Any]]] = {}

    def object_map(self, obj: str) -> ObjectMap:
        try:
            return self.spec.objects[obj]
        except KeyError:
            raise KeyError(f"mapping for {self.spec.system} has no object {obj!r}") from None

    # ---- vendor -> canonical ------------------------------------------------------------

    def to_canonical(self, obj: str, record: dict[str, Any]) -> dict[str, Any]:
        """The canonical payload fields of `record` (without id/xrefs, which the caller owns)."""
        payload, problems = self.to_canonical_partial(obj, record)
        if problems:
            record_id = str(record.get(self.object_map(obj).id_field, "?"))
            raise TranslationError(self.spec.system, obj, record_id, problems)
        return payload

    def to_canonical_partial(
        self, obj: str, record: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Problem]]:
        """The fields of `record` that translate, and the problems of those that do not (what a
        record held by an exception is still worth: its amount when only a crosswalk missed)."""
        omap = self.object_map(obj)
        payload: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, rule, path in self._plan(obj, omap):
            try:
                value = self._evaluate(rule, record, name, problems)
            except ValueError as exc:
                problems.append(Problem(name, str(exc), record.get(rule.from_ or "")))
                continue
            if value is not None:
                if len(path) == 1:
                    payload[name] = value
                else:
                    _put(payload, name, value)
        return payload, problems

    def _plan(self, obj: str, omap: ObjectMap) -> list[tuple[str, FieldRule, list[str]]]:
        """(canonical name, rule, name's parts) of each of `obj`'s fields, in mapping order."""
        found = self._plans.get(obj)
        if found is None or found[0] is not omap.fields:
            plan = [(name, rule, name.split(".")) for name, rule in omap.fields.items()]
            found = self._plans[obj] = (omap.fields, plan)
        return found[1]

    def _evaluate(
        self, rule: FieldRule, record: dict[str, Any], name: str, problems: list[Problem]
    ) -> Any:
        if rule.when is not None:
            branch = rule.then if _holds(rule.when, record) else rule.else_
            return None if branch is None else self._evaluate(branch, record, name, problems)
        if rule.const is not None:
            return rule.const
        if rule.concat is not None:
            parts = [
                str(record.get(p[1:], "") or "") if p.startswith("$") else p for p in rule.concat
            ]
            return "".join(parts).strip() or rule.default
        if rule.money is not None:
            return self._money(rule, record)
        raw = record.get(rule.from_ or "")
        if _empty(raw):
            return rule.default
        if rule.crosswalk is not None:
            return self._lookup(rule.crosswalk, raw, name, problems)
        return convert(raw, rule.as_, rule.format)

    def _money(self, rule: FieldRule, record: dict[str, Any]) -> dict[str, str] | None:
        money = rule.money
        assert money is not None
        raw = record.get(money.amount)
        if _empty(raw):
            return None
        amount = to_decimal(raw) / (100 if money.scale == "cents" else 1)
        currency = money.currency_const or record.get(money.currency or "")
        if _empty(currency):
            currency = money.currency_default
        if _empty(currency):
            raise ValueError(
                f"amount {raw!r} has no currency in {money.currency!r}; a single-currency"
                " system sets its currency in pssync.yaml (connectors.<name>.currency)"
            )
        return {"amount": str(amount), "currency": str(currency).upper()}

    def _lookup(self, walk: str, raw: Any, name: str, problems: list[Problem]) -> Any:
        table = self.spec.crosswalks[walk]
        key = str(raw).strip()
        if key in table:
            return table[key]
        known = self._folded.get(walk)
        if known is None or known[0] is not table or known[1] != len(table):
            folded = {k.casefold(): v for k, v in table.items()}
            known = self._folded[walk] = (table, len(table), folded)
        folded = known[2]
        if key.casefold() in folded:
            return folded[key.casefold()]
        hints = suggest(key, table)
        hint = f"did you mean {hints[0].describe()}? " if hints else ""
        problems.append(
            Problem(
                name,
                f"value {key!r} is not in crosswalk {walk!r}; {hint}add it there to map it",
                key,
                walk,
                hints,
            )
        )
        return None

    # ---- canonical -> vendor ------------------------------------------------------------

    def to_vendor(self, obj: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The vendor fields for a canonical payload; rules that cannot be inverted are skipped."""
        omap = self.object_map(obj)
        out: dict[str, Any] = {}
        for name, rule in omap.fields.items():
            value = _get(payload, name)
            if value is None and rule.fallback:
                value = _get(payload, rule.fallback)
            if not rule.write or value is None:
                continue
            if rule.money is not None and isinstance(value, dict):
                scale = 100 if rule.money.scale == "cents" else 1
                out[rule.money.amount] = to_decimal(value["amount"]) * scale
                if rule.money.currency:
                    out[rule.money.currency] = value["currency"]
            elif rule.from_ is not None:
                if rule.crosswalk is not None:
                    value = self._reverse_lookup(rule.crosswalk, value, name)
                out[rule.from_] = convert_back(value, rule.as_, rule.format)
        return out

    def _reverse_lookup(self, walk: str, value: Any, name: str) -> Any:
        if value is None:
            return None
        for vendor_value, canonical in self.spec.crosswalks[walk].items():
            if canonical == value:
                return vendor_value
        raise TranslationError(
            self.spec.system,
            "(outbound)",
            str(value),
            [
                Problem(
                    name,
                    f"canonical value {value!r} has no entry in crosswalk {walk!r}",
                    value,
                    walk,
                )
            ],
        )


def _put(payload: dict[str, Any], name: str, value: Any) -> None:
    """Set a canonical field; a dotted name (``billing_address.country``) fills a nested object."""
    *parents, leaf = name.split(".")
    for part in parents:
        payload = payload.setdefault(part, {})
    payload[leaf] = value


def _get(payload: dict[str, Any], name: str) -> Any:
    for part in name.split("."):
        if not isinstance(payload, dict):
            return None
        payload = payload.get(part)  # type: ignore[assignment]
    return payload


def _holds(cond: Condition, record: dict[str, Any]) -> bool:
    value = record.get(cond.field)
    if cond.missing is not None:
        return _empty(value) == cond.missing
    if cond.in_ is not None:
        return value in cond.in_
    return bool(value == cond.equals)
