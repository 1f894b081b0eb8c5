"""Integration health per system and object, read from the sync engine's own tables.

Read-only SQL over what the engine already records, so the numbers are the engine's, not a
second bookkeeping that could drift:

- **lag**: now minus the newest change stamp applied for the object (`engine_last_applied`
  versions start with the source's change stamp). A quiet object's lag grows while nothing
  changes in its source, so it is shown beside the last successful capture.
- **throughput**: inbox decisions of status applied in the window, per minute (`engine_inbox`).
- **error rate**: rejected decisions over all decisions in the window (duplicates are not
  decisions: the inbox never records them).
- **dead letters**: open exceptions of the delivery categories (`engine.dead_letter`) for the
  object as a delivery target; **open exceptions**: every other open one for the object.
- **written**: records delivered to the object in the window (`engine_delivery`).
- **last successful capture**: the later of the cursor's last save and the newest decision;
  both are written only after a page was applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, type_coerce

from pssync.engine.tables import (
    engine_circuit,
    engine_cursor,
    engine_delivery,
    engine_inbox,
    engine_last_applied,
)
from pssync.governance.exceptions import ACTIVE
from pssync.store import GoldenStore
from pssync.store.tables import UtcDateTime, exception_record

# `pssync.engine.dead_letter.CATEGORIES` (kept here so reading health never imports DBOS; a
# test checks the two agree).
DEAD_LETTER_CATEGORIES = ("delivery_failed", "auth_failure")
DELETES = "#deletes"  # the cursor of an object's delete feed (`engine.capture.DELETES`)


@dataclass
class ObjectHealth:
    system: str
    object: str
    newest_change_at: dt.datetime | None = None
    lag_seconds: float | None = None
    applied: int = 0
    decided: int = 0
    rejected: int = 0
    written: int = 0
    per_minute: float = 0.0
    error_rate: float | None = None
    dead_letters: int = 0
    open_exceptions: int = 0
    last_success_at: dt.datetime | None = None
    status: str = "ok"


@dataclass
class SystemHealth:
    system: str
    circuit_open_until: dt.datetime | None = None
    circuit_reason: str | None = None
    objects: list[ObjectHealth] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.circuit_open_until is not None:
            return "paused"
        states = {o.status for o in self.objects}
        return "error" if "error" in states else "attention" if "attention" in states else "ok"


def _stamp(version: str) -> dt.datetime | None:
    """The change stamp a version starts with (``<ISO stamp>#<digest>``), as UTC."""
    try:
        moment = dt.datetime.fromisoformat(version.partition("#")[0])
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _newest_changes(conn: Connection) -> dict[tuple[str, str], dt.datetime]:
    """Parsed in Python: stamps of different offsets do not sort as text."""
    c = engine_last_applied.c
    newest: dict[tuple[str, str], dt.datetime] = {}
    rows = conn.execution_options(yield_per=5000).execute(select(c.system, c.object, c.version))
    for system, obj, version in rows:
        stamp = _stamp(str(version))
        key = (str(system), str(obj))
        if stamp is not None and (key not in newest or stamp > newest[key]):
            newest[key] = stamp
    return newest


def _latest(column: Any) -> Any:
    return type_coerce(func.max(column), UtcDateTime())


def collect(store: GoldenStore, now: dt.datetime, window: dt.timedelta) -> list[SystemHealth]:
    """Per system, one `ObjectHealth` per object the engine captured, wrote or dead-lettered."""
    since = now - window
    rows: dict[tuple[str, str], ObjectHealth] = {}

    def row(system: Any, obj: Any) -> ObjectHealth:
        key = (str(system), str(obj).removesuffix(DELETES))
        if key not in rows:
            rows[key] = ObjectHealth(*key)
        return rows[key]

    inbox, cur, dlv, x = engine_inbox.c, engine_cursor.c, engine_delivery.c, exception_record.c
    with store.engine.connect() as conn:
        for (system, obj), stamp in _newest_changes(conn).items():
            found = row(system, obj)
            found.newest_change_at = stamp
            found.lag_seconds = max(0.0, (now - stamp).total_seconds())
        windowed = (
            select(inbox.system, inbox.object, inbox.status, func.count())
            .where(inbox.received_at >= since)
            .group_by(inbox.system, inbox.object, inbox.status)
        )
        for system, obj, status, n in conn.execute(windowed):
            found = row(system, obj)
            found.decided += int(n)
            found.applied += int(n) if status == "applied" else 0
            found.rejected += int(n) if status == "rejected" else 0
        latest = select(inbox.system, inbox.object, _latest(inbox.received_at)).group_by(
            inbox.system, inbox.object
        )
        cursors = select(cur.system, cur.object, _latest(cur.updated_at)).group_by(
            cur.system, cur.object
        )
        for system, obj, at in [*conn.execute(latest), *conn.execute(cursors)]:
            found = row(system, obj)
            if at is not None and (found.last_success_at is None or at > found.last_success_at):
                found.last_success_at = at
        written = (
            select(dlv.system, dlv.object, func.count())
            .where(dlv.written_at >= since)
            .group_by(dlv.system, dlv.object)
        )
        for system, obj, n in conn.execute(written):
            row(system, obj).written += int(n)
        active = (
            select(x.system, x.object, x.category, func.count())
            .where(x.state.in_([s.value for s in ACTIVE]), x.system.is_not(None))
            .where(x.object.is_not(None))
            .group_by(x.system, x.object, x.category)
        )
        for system, obj, category, n in conn.execute(active):
            found = row(system, obj)
            if category in DEAD_LETTER_CATEGORIES:
                found.dead_letters += int(n)
            else:
                found.open_exceptions += int(n)
        circuits = {str(r.system): r for r in conn.execute(select(engine_circuit)) if r.open_until}
    minutes = window.total_seconds() / 60
    systems: dict[str, SystemHealth] = {}
    for (system, _), found in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1].lower())):
        found.per_minute = found.applied / minutes if minutes else 0.0
        found.error_rate = found.rejected / found.decided if found.decided else None
        found.status = (
            "error"
            if found.dead_letters
            else "attention"
            if found.rejected or found.open_exceptions
            else "ok"
        )
        if system not in systems:
            systems[system] = SystemHealth(system)
            circuit = circuits.get(system)
            if circuit is not None and circuit.open_until > now:
                systems[system].circuit_open_until = circuit.open_until
                systems[system].circuit_reason = circuit.reason
        systems[system].objects.append(found)
    return list(systems.values())
