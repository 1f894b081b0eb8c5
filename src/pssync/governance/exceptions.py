"""Exceptions: one model for dead letters and business exceptions, with an owner and a lifecycle.

open -> assigned -> resolved | ignored, and resolved/ignored -> open again (reopen). Raising the
same problem for the same record while it is still open updates that exception (fingerprint), so
a retried sync does not bury its owner in copies. Every transition is written to the audit log in
the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine, Select, bindparam, func, insert, select, update

from pssync.governance.routing import Router
from pssync.store import audit
from pssync.store.history import utcnow
from pssync.store.problems import ACTIVE as ACTIVE
from pssync.store.problems import ExceptionRecord as ExceptionRecord
from pssync.store.problems import NewException as NewException
from pssync.store.problems import State as State
from pssync.store.tables import exception_record as xr

_ALLOWED: dict[State, set[State]] = {
    State.OPEN: {State.ASSIGNED, State.RESOLVED, State.IGNORED},
    State.ASSIGNED: {State.ASSIGNED, State.RESOLVED, State.IGNORED},
    State.RESOLVED: {State.OPEN},
    State.IGNORED: {State.OPEN},
}


class TransitionError(ValueError):
    pass


def _where(
    stmt: Select[Any],
    states: list[str] | None,
    category: str | None,
    owner: str | None,
    system: str | None,
) -> Select[Any]:
    if states:
        stmt = stmt.where(xr.c.state.in_(states))
    for column, value in ((xr.c.category, category), (xr.c.owner, owner), (xr.c.system, system)):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def _values(new: NewException, now: dt.datetime) -> dict[str, Any]:
    """The columns raising `new` again refreshes."""
    return {
        "message": new.message,
        "details": json.dumps(new.details, sort_keys=True, default=str),
        "payload": new.payload,
        "correlation_id": new.correlation_id,
        "updated_at": now,
    }


def _entry(exc_id: str, action: str, actor: str, now: dt.datetime, category: str) -> Any:
    return audit.AuditEntry(
        at=now,
        transaction_id=uuid.uuid4().hex,
        actor=actor,
        action=action,
        entity_type="Exception",
        record_id=exc_id,
        changes=audit.to_json({"category": category}),
    )


def _record(row: Any) -> ExceptionRecord:
    data = dict(row._mapping)
    data["details"] = json.loads(data["details"])
    return ExceptionRecord(**data)


class ExceptionStore:
    """Raise, query and move exceptions through their lifecycle."""

    def __init__(
        self,
        engine: Engine,
        router: Router | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        notify: Callable[[ExceptionRecord], dict[str, Any]] | None = None,
    ) -> None:
        self.engine = engine
        self.router = router or Router()
        self.clock = clock
        self.notify = notify  # e.g. governance.notify.Notifier(...).notify

    def raise_(self, new: NewException, actor: str = "pssync") -> ExceptionRecord:
        """Open an exception, or refresh the active one with the same fingerprint."""
        (exc_id,) = self.raise_many([new], actor)
        found = self.get(exc_id)
        assert found is not None
        return found

    def raise_many(self, news: list[NewException], actor: str = "pssync") -> list[str]:
        """`raise_` for a batch in one transaction (an import's thousands of rejected rows):
        the IDs of the exceptions opened or refreshed, in order."""
        if not news:
            return []
        now = self.clock()
        fps = [new.fingerprint() for new in news]
        active = [s.value for s in ACTIVE]
        ids: list[str] = []
        opened: list[str] = []
        with self.engine.begin() as conn:
            existing: dict[str, str] = {}
            unique = sorted(set(fps))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                query = select(xr.c.fingerprint, xr.c.id).where(
                    xr.c.fingerprint.in_(chunk), xr.c.state.in_(active)
                )
                existing.update({str(r.fingerprint): str(r.id) for r in conn.execute(query)})
            entries, rows = [], []
            opening: dict[str, dict[str, Any]] = {}  # rows this batch inserts, by fingerprint
            refreshed: list[dict[str, Any]] = []
            for new, fp in zip(news, fps, strict=True):
                values = _values(new, now)
                if fp in opening:  # raised again within the batch: the later raise stands
                    opening[fp].update(values)
                    ids.append(existing[fp])
                    continue
                if fp in existing:
                    refreshed.append(
                        {"ref_id": existing[fp]} | {f"ref_{k}": v for k, v in values.items()}
                    )
                    ids.append(existing[fp])
                    continue
                exc_id = existing[fp] = uuid.uuid4().hex
                opening[fp] = self._new_row(new, exc_id, fp, now) | values
                rows.append(opening[fp])
                entries.append(_entry(exc_id, "exception.raise", actor, now, new.category))
                ids.append(exc_id)
                opened.append(exc_id)
            if rows:
                conn.execute(insert(xr), rows)  # one executemany
            if refreshed:  # a reconciliation refreshes thousands: one executemany too
                columns: dict[str, Any] = {
                    k.removeprefix("ref_"): bindparam(k) for k in refreshed[0] if k != "ref_id"
                }
                stmt = update(xr).where(xr.c.id == bindparam("ref_id")).values(columns)
                conn.execute(stmt, refreshed)
            audit.append(conn, entries)
        if self.notify is not None:
            for exc_id in opened:
                found = self.get(exc_id)
                if found is not None:
                    self._notified(found)
        return ids

    def _new_row(self, new: NewException, exc_id: str, fp: str, now: dt.datetime) -> dict[str, Any]:
        return {
            "id": exc_id,
            "fingerprint": fp,
            "category": new.category,
            "severity": self.router.severity(new.category),
            "state": State.OPEN.value,
            "owner": self.router.owner(
                new.category,
                region_id=new.region_id,
                service_line_id=new.service_line_id,
                system=new.system,
            ),
            "system": new.system,
            "object": new.object,
            "source_id": new.source_id,
            "entity_type": new.entity_type,
            "record_id": new.record_id,
            "region_id": new.region_id,
            "service_line_id": new.service_line_id,
            "attempts": 0,
            "created_at": now,
            "due_at": self.router.due(new.category, now),
        }

    def _notified(self, exc: ExceptionRecord) -> ExceptionRecord:
        """Tell the owner (webhook, ServiceNow); what happened is kept in the details."""
        try:
            outcome = self.notify(exc) if self.notify else {}
        except httpx.HTTPError as err:
            outcome = {"error": f"notification failed: {err}"}
        details = {**exc.details, "notified": outcome}
        if isinstance(outcome.get("incident"), dict):
            details["incident"] = outcome["incident"]
        with self.engine.begin() as conn:
            conn.execute(
                update(xr)
                .where(xr.c.id == exc.id)
                .values(details=json.dumps(details, sort_keys=True, default=str))
            )
        exc.details = details
        return exc

    def get(self, exc_id: str) -> ExceptionRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(xr).where(xr.c.id == exc_id)).first()
        return None if row is None else _record(row)

    def find(
        self,
        *,
        states: list[str] | None = None,
        category: str | None = None,
        owner: str | None = None,
        system: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ExceptionRecord]:
        """Exceptions oldest first; `limit`/`offset` read one page only (a list of ten
        thousand is read and shown a page at a time)."""
        stmt = _where(select(xr), states, category, owner, system)
        stmt = stmt.order_by(xr.c.created_at, xr.c.id)
        if limit:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(stmt)]

    def ids_starting(self, prefix: str, limit: int = 2) -> list[str]:
        """IDs beginning with `prefix` (what `list` prints is a prefix), at most `limit`."""
        if not prefix.isalnum():
            return []
        stmt = select(xr.c.id).where(xr.c.id.startswith(prefix)).limit(limit)
        with self.engine.connect() as conn:
            return [str(row.id) for row in conn.execute(stmt)]

    def count(
        self,
        *,
        states: list[str] | None = None,
        category: str | None = None,
        owner: str | None = None,
        system: str | None = None,
    ) -> int:
        """How many exceptions `find` would return without a limit."""
        stmt = _where(select(func.count()).select_from(xr), states, category, owner, system)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def assign(self, exc_id: str, owner: str, actor: str) -> ExceptionRecord:
        return self._move(exc_id, State.ASSIGNED, actor, {"owner": owner})

    def resolve(self, exc_id: str, note: str, actor: str) -> ExceptionRecord:
        return self._move(exc_id, State.RESOLVED, actor, {"resolution": note})

    def ignore(self, exc_id: str, note: str, actor: str) -> ExceptionRecord:
        return self._move(exc_id, State.IGNORED, actor, {"resolution": note})

    def reopen(self, exc_id: str, actor: str) -> ExceptionRecord:
        return self._move(exc_id, State.OPEN, actor, {"resolution": None, "resolved_at": None})

    def record_attempt(self, exc_id: str, ok: bool, note: str, actor: str) -> ExceptionRecord:
        """Count a replay; success resolves, failure keeps the exception active with the reason."""
        with self.engine.begin() as conn:
            conn.execute(update(xr).where(xr.c.id == exc_id).values(attempts=xr.c.attempts + 1))
        if ok:
            done = self.get(exc_id)
            if done is not None and done.state == State.RESOLVED:
                return done  # the replay itself closed it (the record landed and said so)
            return self.resolve(exc_id, f"replayed: {note}", actor)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(update(xr).where(xr.c.id == exc_id).values(updated_at=now, message=note))
            self._audit(conn, exc_id, "exception.replay_failed", actor, now, {"reason": note})
        found = self.get(exc_id)
        assert found is not None
        return found

    def resolve_fingerprints(self, fingerprints: list[str], note: str, actor: str) -> int:
        """Resolve the active exceptions with these fingerprints in one transaction and one
        audit append (a page's data-quality flags whose problem a later version fixed): as
        `resolve` of each, without a transaction and two reads per exception."""
        if not fingerprints:
            return 0
        now = self.clock()
        active = [s.value for s in ACTIVE]
        with self.engine.begin() as conn:
            found: list[tuple[str, str]] = []
            unique = sorted(set(fingerprints))
            for start in range(0, len(unique), 500):
                query = select(xr.c.id, xr.c.state).where(
                    xr.c.fingerprint.in_(unique[start : start + 500]), xr.c.state.in_(active)
                )
                found += [(str(r.id), str(r.state)) for r in conn.execute(query)]
            if not found:
                return 0
            values = {"resolution": note}
            stmt = update(xr).where(xr.c.id == bindparam("ref_id"))
            conn.execute(
                stmt.values(state=State.RESOLVED.value, updated_at=now, resolved_at=now, **values),
                [{"ref_id": exc_id} for exc_id, _ in found],
            )
            entries = [
                audit.AuditEntry(
                    at=now,
                    transaction_id=uuid.uuid4().hex,
                    actor=actor,
                    action=f"exception.{State.RESOLVED.value}",
                    entity_type="Exception",
                    record_id=exc_id,
                    changes=audit.to_json({"state": [state, State.RESOLVED.value], **values}),
                )
                for exc_id, state in found
            ]
            audit.append(conn, entries)
        return len(found)

    def auto_resolve(self, fingerprint: str, note: str) -> int:
        """Resolve the active exception with this fingerprint (its cause was fixed upstream)."""
        active = [
            e.id
            for e in self.find(states=[s.value for s in ACTIVE])
            if e.fingerprint == fingerprint
        ]
        for exc_id in active:
            self.resolve(exc_id, f"auto-resolved: {note}", "pssync")
        return len(active)

    def _move(
        self, exc_id: str, target: State, actor: str, values: dict[str, Any]
    ) -> ExceptionRecord:
        current = self.get(exc_id)
        if current is None:
            raise KeyError(f"no exception {exc_id}")
        if target not in _ALLOWED[State(current.state)]:
            raise TransitionError(
                f"exception {exc_id} is {current.state}; it cannot become {target}"
            )
        now = self.clock()
        if target in (State.RESOLVED, State.IGNORED):
            values = {**values, "resolved_at": now}
        with self.engine.begin() as conn:
            conn.execute(
                update(xr)
                .where(xr.c.id == exc_id)
                .values(state=target.value, updated_at=now, **values)
            )
            change = {
                "state": [current.state, target.value],
                **{k: v for k, v in values.items() if k != "resolved_at"},
            }
            self._audit(conn, exc_id, f"exception.{target.value}", actor, now, change)
        moved = self.get(exc_id)
        assert moved is not None
        return moved

    @staticmethod
    def _audit(
        conn: Any, exc_id: str, action: str, actor: str, now: dt.datetime, changes: dict[str, Any]
    ) -> None:
        audit.append(
            conn,
            [
                audit.AuditEntry(
                    at=now,
                    transaction_id=uuid.uuid4().hex,
                    actor=actor,
                    action=action,
                    entity_type="Exception",
                    record_id=exc_id,
                    changes=audit.to_json(changes),
                )
            ],
        )
