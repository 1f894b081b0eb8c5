"""Records held by exceptions, re-read by a full sync (`pssync sync --full`).

A record refused at ingest (an unmapped value, a missing attribute, a line waiting for its
deal) keeps its inbox event: read again unchanged, it would be answered `duplicate`. A full
sync re-reads these records as new events (tagged with the run), so a fixed cause — a crosswalk
extended in pssync.yaml, a mapping changed — lets them land; the exceptions whose records all
landed are resolved.

A record read while a record it names was held (a PSA workspace naming its CRM deal) could not
be linked to it, and read again unchanged it would be a duplicate too. So a full sync also
reads again, as new events, the records that name a held record which has landed since (its
ingest exception resolved), and those naming the project of a deal that landed so (a staffing
request, a booking): the link and the fields taken from it are made then. Such a re-read is
tagged by the landed records it names, not by the run, so the next full sync reads it as the
same event (a duplicate, skipped) until another record it names lands.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from pssync.engine.inbox import Status
from pssync.engine.nesting import ORPHAN_CATEGORY
from pssync.engine.ports import ExceptionSink
from pssync.engine.records import event_of
from pssync.engine.tables import engine_inbox
from pssync.store import GoldenStore
from pssync.store.bulk import select_in
from pssync.store.problems import ACTIVE, State
from pssync.store.tables import exception_record

_CHUNK = 400


@dataclass
class Held:
    """The active ingest exceptions of one system's object and the source records they hold."""

    system: str
    obj: str
    tag: str = field(default_factory=lambda: f"full-{uuid.uuid4().hex[:8]}")
    by_source: dict[str, set[str]] = field(default_factory=dict)  # source ID -> exception IDs
    needs: dict[str, set[str]] = field(default_factory=dict)  # exception ID -> source IDs
    keys: dict[str, str] = field(default_factory=dict)  # tagged event key -> source ID
    landed: set[str] = field(default_factory=set)  # source IDs of held records, landed since

    @classmethod
    def load(cls, engine: Engine, system: str, obj: str) -> Held:
        xr = exception_record.c
        stmt = select(
            xr.id,
            xr.category,
            xr.source_id,
            xr.details,
            xr.payload,
            xr.system,
            xr.state,
            xr.record_id,
        ).where(
            ((xr.system == system) & (xr.object == obj) & xr.state.in_([s.value for s in ACTIVE]))
            | ((xr.state == State.RESOLVED.value) & xr.source_id.is_not(None))
        )
        held, landed_ids = cls(system, obj), set[str]()
        with engine.connect() as conn:
            for row in conn.execute(stmt):
                details = json.loads(row.details or "{}")
                if details.get("stage") != "ingest":
                    continue
                if row.state == State.RESOLVED.value:
                    if row.system != system:  # another system's record this one may name
                        held.landed.add(str(row.source_id))
                        landed_ids.add(str(row.record_id))
                    continue
                sources = {str(row.source_id)} if row.source_id else set()
                if row.category == ORPHAN_CATEGORY:  # the lines, not the deal they wait for
                    lines = json.loads(row.payload or "{}").get("records", [])
                    sources = {str(r["id"]) for r in lines}
                held.needs[str(row.id)] = sources
                for source_id in sources:
                    held.by_source.setdefault(source_id, set()).add(str(row.id))
        held.landed |= _projects_of(engine, system, landed_ids)
        return held

    def tag_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record as read, tagged as a new event when an exception holds it (or when it
        names a held record that landed since: it is linked to it now)."""
        if str(record["id"]) not in self.by_source:
            named = _named(record.get("data"), self.landed) if self.landed else set()
            if named:
                digest = hashlib.sha256("\n".join(sorted(named)).encode()).hexdigest()[:12]
                return {**record, "tag": f"relink-{digest}"}
            return record
        tagged = {**record, "tag": self.tag}
        self.keys[event_of(self.system, self.obj, tagged).key] = str(record["id"])
        return tagged

    def close_landed(self, engine: Engine, exceptions: ExceptionSink) -> int:
        """Resolve the exceptions whose held records were applied by this run; how many."""
        if not self.keys:
            return 0
        wanted, rows = list(self.keys), []
        with engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                rows += select_in(
                    conn, engine_inbox, ("event_key", "status"), {}, "event_key", chunk
                )
        landed = {
            self.keys[str(key)]
            for key, status in rows
            if status in (Status.APPLIED.value, Status.ECHO.value)
        }
        done = [exc_id for exc_id, need in self.needs.items() if need and need <= landed]
        active = {
            e.id for e in exceptions.find(states=[s.value for s in ACTIVE], system=self.system)
        }
        closed = [exc_id for exc_id in done if exc_id in active]
        for exc_id in closed:
            exceptions.resolve(exc_id, "auto-resolved: re-read by a full sync", "engine")
        return len(closed)


def _named(value: Any, wanted: set[str]) -> set[str]:
    """The strings of `wanted` found in the (nested) source data `value`."""
    if isinstance(value, str):
        return {value} if value in wanted else set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_named(v, wanted) for v in value))
    return set()


def _projects_of(engine: Engine, system: str, deals: set[str]) -> set[str]:
    """The IDs in `system` of the golden projects of `deals` (the few held deals that landed)."""
    if not deals:
        return set()
    found: set[str] = set()
    for version in GoldenStore(engine).iter_records("Project"):
        if version.payload.get("opportunity_id") in deals:
            xrefs = version.payload.get("xrefs") or {}
            found |= {str(v) for k, v in xrefs.items() if k.partition(":")[0] == system}
    return found
