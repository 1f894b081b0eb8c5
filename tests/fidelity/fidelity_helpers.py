"""Builders for the fidelity unit tests: truth records, golden views, exceptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.fidelity.golden import GoldenView
from pssync.fidelity.truth import SourceKey, TruthRecord
from pssync.governance.exceptions import ExceptionRecord

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def truth(entity_type: str, payload: dict[str, Any], *sources: SourceKey) -> TruthRecord:
    return TruthRecord(entity_type, payload["id"], payload, T0, set(sources))


def golden(records: dict[tuple[str, str], tuple[dict[str, Any], set[SourceKey]]]) -> GoldenView:
    view = GoldenView()
    for key, (payload, sources) in records.items():
        view.records[key] = payload
        for source in sources:
            view.by_source[source] = key
            view.sources[key].add(source)
    return view


def exception(category: str, **fields: Any) -> ExceptionRecord:
    values: dict[str, Any] = {
        "id": fields.pop("id", category),
        "category": category,
        "severity": "medium",
        "state": "open",
        "owner": None,
        "system": None,
        "object": None,
        "source_id": None,
        "entity_type": None,
        "record_id": None,
        "region_id": None,
        "service_line_id": None,
        "message": category,
        "details": {},
        "payload": None,
        "attempts": 0,
        "correlation_id": None,
        "created_at": T0,
        "updated_at": T0,
        "due_at": None,
        "resolved_at": None,
        "resolution": None,
        "fingerprint": category,
    }
    values.update(fields)
    return ExceptionRecord(**values)


def account(record_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": record_id, "name": name, "currency": "USD", **extra}


def contact(record_id: str, account_id: str, last: str) -> dict[str, Any]:
    return {"id": record_id, "account_id": account_id, "first_name": "A", "last_name": last}
