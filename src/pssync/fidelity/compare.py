"""Field-by-field comparison of a truth record with its golden record.

Both sides are first put in canonical form (validated by the model and dumped as JSON, so
``"40"`` and ``"40.00"`` hours or a date and its ISO text compare equal), the truth's references
to other records are translated into golden IDs through the match, and nested lists (an
opportunity's line items) compare as multisets without their own IDs, which each system
numbers its own way.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pssync.model import CanonicalValidationError, parse_record

#: Canonical fields holding another record's ID, and the entity type they point at (None: the
#: record's own type). Reference data (regions, roles, ...) keeps the same IDs everywhere.
REFERENCE_FIELDS: dict[str, str | None] = {
    "account_id": "Account",
    "opportunity_id": "Opportunity",
    "project_id": "Project",
    "resource_id": "Resource",
    "wbs_element_id": "WbsElement",
    "contract_line_id": "ContractLine",
    "invoice_id": "Invoice",
    "parent_id": None,
}
#: Fields that name or stamp a record rather than describe it.
IGNORED = frozenset({"id", "xrefs", "schema_version"})

IdMap = Mapping[tuple[str, str], str]


def plain(value: Any) -> Any:
    """JSON-like value with every Decimal in one form (``450.00`` and ``450`` are one amount)."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def canonical(entity_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as the model reads it, Decimals normalised; as given when it does not
    validate (so a broken record is still compared rather than dropped)."""
    try:
        dumped = parse_record(entity_type, dict(payload)).model_dump(mode="python")
    except CanonicalValidationError:
        dumped = dict(payload)
    out: dict[str, Any] = plain(dumped)
    return out


def translate(entity_type: str, payload: Mapping[str, Any], ids: IdMap) -> dict[str, Any]:
    """Truth references replaced by the golden IDs they were matched to (kept when unmatched)."""
    out = dict(payload)
    for name, target in REFERENCE_FIELDS.items():
        value = out.get(name)
        if isinstance(value, str):
            out[name] = ids.get((target or entity_type, value), value)
    return out


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        items = [
            {k: v for k, v in item.items() if k != "id"} if isinstance(item, dict) else item
            for item in value
        ]
        return sorted(json.dumps(i, sort_keys=True, default=str) for i in items)
    if value in ("", [], {}):
        return None
    return value


def diff_fields(truth: Mapping[str, Any], golden: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """field -> (truth value, golden value) for every field that differs (both canonical)."""
    out = {}
    for name in sorted((set(truth) | set(golden)) - IGNORED):
        t, g = truth.get(name), golden.get(name)
        if _comparable(t) != _comparable(g):
            out[name] = (t, g)
    return out


def natural_key(payload: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[str, ...] | None:
    """The values of `fields` as text; None when one is missing (no key, no match by it)."""
    values = []
    for name in fields:
        value = payload.get(name)
        if value is None or value == "":
            return None
        values.append(json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value))
    return tuple(values)
