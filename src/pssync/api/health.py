"""Connector health: small providers, each adding what it knows per system.

Today the golden store can say how many records each system is linked to (xref), when a system
last changed a record, and how many exceptions it has open. The sync engine will know more
(lag, queue depth, circuit state): it appends a provider to `AppContext.health_providers` (or
to `EXTRA_PROVIDERS` at import time) and its fields appear in the API and the dashboard.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from pssync.governance.exceptions import ACTIVE
from pssync.store import GoldenStore
from pssync.store.tables import exception_record, record_version, xref

# system -> field -> value; fields of several providers are merged per system.
HealthReport = dict[str, dict[str, Any]]
HealthProvider = Callable[[GoldenStore], HealthReport]
EXTRA_PROVIDERS: list[HealthProvider] = []


def xref_counts(store: GoldenStore) -> HealthReport:
    stmt = select(xref.c.system, func.count()).group_by(xref.c.system)
    with store.engine.connect() as conn:
        return {str(s): {"xrefs": int(n)} for s, n in conn.execute(stmt)}


def last_change(store: GoldenStore) -> HealthReport:
    rv = record_version.c
    stmt = select(rv.system, func.max(rv.recorded_from), func.count()).group_by(rv.system)
    with store.engine.connect() as conn:
        return {
            str(s): {"last_change_at": at, "versions": int(n)} for s, at, n in conn.execute(stmt)
        }


def open_exceptions(store: GoldenStore) -> HealthReport:
    x = exception_record.c
    stmt = (
        select(x.system, func.count())
        .where(x.state.in_([s.value for s in ACTIVE]), x.system.is_not(None))
        .group_by(x.system)
    )
    with store.engine.connect() as conn:
        return {str(s): {"open_exceptions": int(n)} for s, n in conn.execute(stmt)}


def default_providers() -> list[HealthProvider]:
    return [xref_counts, last_change, open_exceptions, *EXTRA_PROVIDERS]


def collect(store: GoldenStore, providers: list[HealthProvider]) -> list[dict[str, Any]]:
    """One row per system with every provider's fields, and a status a human can scan."""
    merged: dict[str, dict[str, Any]] = defaultdict(dict)
    for provider in providers:
        for system, fields in provider(store).items():
            merged[system].update(fields)
    rows = []
    for system in sorted(merged):
        fields = {"xrefs": 0, "open_exceptions": 0, "versions": 0, **merged[system]}
        status = fields.get("status") or ("attention" if fields["open_exceptions"] else "ok")
        rows.append({"system": system, **fields, "status": status})
    return rows


def exception_counts(store: GoldenStore) -> dict[tuple[str, str], int]:
    """(category, state) -> count, for the Prometheus exceptions gauge."""
    x = exception_record.c
    stmt = select(x.category, x.state, func.count()).group_by(x.category, x.state)
    with store.engine.connect() as conn:
        return {(str(c), str(s)): int(n) for c, s, n in conn.execute(stmt)}
