"""Idempotent consumer: every change has an event key; a duplicate is a no-op; late old
versions never overwrite newer ones.

The event key is (system, object, source id, version). The inbox remembers every key it has
decided about and, per source record, the newest version applied. Decisions are recorded only
after the golden write and routing of their page succeeded, so a crash re-applies a change
rather than losing it — and re-applying is harmless because the golden store treats unchanged
content as a no-op and delivery suppresses writes that would change nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import Connection, Engine, or_, select

from pssync.engine.ids import stamp_of
from pssync.engine.tables import engine_inbox, engine_last_applied
from pssync.store.bulk import insert_rows, on_conflict_clause, select_in
from pssync.store.history import utcnow

_CHUNK = 400
# Row layouts of the two tables (an inbox row starts with the `Event`'s fields, in order).
_INBOX_COLUMNS = (
    "system",
    "object",
    "source_id",
    "version",
    "event_key",
    "status",
    "entity_type",
    "record_id",
    "workflow_id",
    "received_at",
)
_LAST_COLUMNS = ("system", "object", "source_id", "version", "applied_at")


class Status(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    ECHO = "echo"
    REJECTED = "rejected"


class Event(NamedTuple):
    """One change as captured: enough to key it and to order it. (Named tuples, not frozen
    dataclasses: a page makes hundreds of these, and a frozen dataclass's constructor costs
    several times a tuple's.)"""

    system: str
    object: str
    source_id: str
    version: str
    key: str


class Decision(NamedTuple):
    event: Event
    status: Status
    entity_type: str | None = None
    record_id: str | None = None


def _stamp(version: str) -> dt.datetime | str:
    text = stamp_of(version)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def is_older(version: str, than: str) -> bool:
    """True when `version`'s change stamp is before `than`'s (equal stamps are not older)."""
    a, b = _stamp(version), _stamp(than)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a < b
    return str(a) < str(b)


class Inbox:
    """The inbox tables of one golden-store database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def seen(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` were decided already."""
        wanted, found = list(dict.fromkeys(keys)), set[str]()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                found.update(select_in(conn, engine_inbox, "event_key", {}, "event_key", chunk))
        return found

    def last_versions(self, events: Sequence[Event]) -> dict[tuple[str, str, str], str]:
        """The newest applied version of each source record among `events`."""
        with self.engine.connect() as conn:
            return _versions_in(conn, list({(e.system, e.object, e.source_id) for e in events}))

    def record(self, decisions: Sequence[Decision], workflow_id: str | None = None) -> None:
        """Remember decisions; applied (and echoed) versions become the record's newest."""
        if not decisions:
            return
        now = utcnow()
        rows = [
            (*d.event, d.status.value, d.entity_type, d.record_id, workflow_id, now)
            for d in decisions
            if d.status is not Status.DUPLICATE
        ]
        newest: dict[tuple[str, str, str], str] = {}
        for d in decisions:
            if d.status in (Status.APPLIED, Status.ECHO):
                key = (d.event.system, d.event.object, d.event.source_id)
                if key not in newest or not is_older(d.event.version, newest[key]):
                    newest[key] = d.event.version
        with self.engine.begin() as conn:
            ignore = on_conflict_clause(conn.dialect, engine_inbox)
            insert_rows(conn, engine_inbox, _INBOX_COLUMNS, rows, on_conflict=ignore)
            current = _versions_in(conn, list(newest))
            bumps = [
                (s, o, i, v, now)
                for (s, o, i), v in newest.items()
                if (s, o, i) not in current or not is_older(v, current[(s, o, i)])
            ]
            bump = on_conflict_clause(conn.dialect, engine_last_applied, ("version", "applied_at"))
            insert_rows(conn, engine_last_applied, _LAST_COLUMNS, bumps, on_conflict=bump)

    def events_for(self, source_id: str) -> list[dict[str, object]]:
        """Every decision about one source record (for `pssync trace`)."""
        stmt = (
            select(engine_inbox)
            .where(
                or_(
                    engine_inbox.c.source_id == source_id,
                    engine_inbox.c.record_id == source_id,
                    engine_inbox.c.event_key == source_id,
                )
            )
            .order_by(engine_inbox.c.received_at)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]


def _versions_in(
    conn: Connection, keys: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str]:
    """Newest applied versions of `keys`: one IN list per (system, object), not an OR of
    one AND per record (a page is one system's object; compiling 400 ANDs cost more than
    running the query)."""
    by_object: dict[tuple[str, str], list[str]] = {}
    for system, obj, source_id in keys:
        by_object.setdefault((system, obj), []).append(source_id)
    found: dict[tuple[str, str, str], str] = {}
    for (system, obj), ids in by_object.items():
        for start in range(0, len(ids), _CHUNK):
            for source_id, version in select_in(
                conn,
                engine_last_applied,
                ("source_id", "version"),
                {"system": system, "object": obj},
                "source_id",
                ids[start : start + _CHUNK],
            ):
                found[(system, obj, source_id)] = version
    return found
