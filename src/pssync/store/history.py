"""Bitemporal canonical records: write changes, read any record or entity set as known at T.

A change says "from valid time V the record looks like this". Writing it closes (never edits)
the versions it supersedes and inserts the new ones, so every earlier belief stays readable:
`valid_at` picks the business time, `known_at` picks what pssync had recorded by then.
Unchanged content is a no-op, which is what makes re-imports and replays free of side effects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from pssync.store import audit
from pssync.store.tables import audit_log, record_merge, record_version, xref
from pssync.store.versions import (
    Change,
    Clock,
    Fact,
    RecordVersion,
    WriteResult,
    content_hash,
    json_loads,
    set_fields,
    utcnow,
    version_of_row,
)
from pssync.store.write_plan import StaleWriteError, WritePlan, add_xrefs, load_current

__all__ = [
    "Change",
    "Clock",
    "Fact",
    "GoldenStore",
    "RecordVersion",
    "WriteResult",
    "content_hash",
    "json_loads",
    "set_fields",
    "utcnow",
    "version_of_row",
]

_T = TypeVar("_T")
# Transactions a write may take when concurrent writers keep touching the same records.
_WRITE_ATTEMPTS = 8


def _lost_race(error: BaseException) -> bool:
    """A failure another writer caused, worth applying again: a stale close, a unique index, or
    PostgreSQL choosing this transaction as a deadlock's or a serialisation conflict's victim
    (SQLSTATE 40P01, 40001); any other error (a lost connection, a locked SQLite file) is not."""
    if isinstance(error, StaleWriteError | IntegrityError):
        return True
    return isinstance(error, OperationalError) and (
        getattr(error.orig, "sqlstate", None) in ("40P01", "40001")
    )


def _as_known(known_at: dt.datetime | None) -> ColumnElement[bool]:
    rv = record_version.c
    if known_at is None:
        return rv.recorded_to.is_(None)
    return and_(
        rv.recorded_from <= known_at, or_(rv.recorded_to.is_(None), rv.recorded_to > known_at)
    )


def _as_valid(valid_at: dt.datetime | None) -> ColumnElement[bool]:
    rv = record_version.c
    if valid_at is None:
        return rv.valid_to.is_(None)
    return and_(rv.valid_from <= valid_at, or_(rv.valid_to.is_(None), rv.valid_to > valid_at))


class GoldenStore:
    """Repository over the golden store's tables; one instance per engine."""

    def __init__(self, engine: Engine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @cached_property
    def url_text(self) -> str:
        """The database URL as text (password masked), rendered once: it keys per-store
        caches, and rendering a URL costs more than a cache lookup."""
        return str(self.engine.url)

    # ---- writes -------------------------------------------------------------------------

    def write(
        self,
        changes: Sequence[Change],
        *,
        actor: str = "pssync",
        transaction_id: str | None = None,
        correlation_id: str | None = None,
    ) -> WriteResult:
        """Apply `changes` in one database transaction; unchanged content writes nothing."""
        return self.write_facts(
            [Fact.of(c) for c in changes],
            actor=actor,
            transaction_id=transaction_id,
            correlation_id=correlation_id,
        )

    def write_facts(
        self,
        facts: Sequence[Fact],
        *,
        actor: str = "pssync",
        transaction_id: str | None = None,
        correlation_id: str | None = None,
    ) -> WriteResult:
        """`write` for changes already reduced to `Fact`s (plain values, so a bulk import can
        prepare them in another process); same rows, same result."""
        tx = transaction_id or uuid.uuid4().hex
        if not facts:
            return WriteResult(transaction_id=tx)
        keys = {(f.entity_type, f.record_id) for f in facts}

        def attempt(conn: Connection) -> WriteResult:
            result = WriteResult(transaction_id=tx)
            now = self.clock()
            current = load_current(conn, keys)
            plan = WritePlan(now=now, tx=tx, actor=actor, correlation_id=correlation_id)
            for fact in facts:
                outcome = plan.apply(
                    fact, current.setdefault((fact.entity_type, fact.record_id), [])
                )
                result.unchanged += outcome == "unchanged"
                result.created += outcome == "created"
                result.updated += outcome == "updated"
            plan.flush(conn)
            add_xrefs(conn, facts, now, plan.current_payloads())
            return result

        return self._serialised(attempt)

    def _serialised(self, attempt: Callable[[Connection], _T]) -> _T:
        """Run `attempt` in a transaction; if a concurrent writer got to the same records first
        (a version it read was closed meanwhile, or the unique indexes on current versions and
        cross-references refuse a second one), roll back, re-read and apply again.

        Two workers polling the same page thus end with one current version per record and
        valid time, not two (`tests/store/test_concurrent_writes.py`).
        """
        retrying = Retrying(
            stop=stop_after_attempt(_WRITE_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.01, max=0.4),
            retry=retry_if_exception(_lost_race),
            reraise=True,
        )
        for retry in retrying:
            with retry, self.engine.begin() as conn:
                result = attempt(conn)
        return result

    def audit_refusals(
        self,
        entity_type: str,
        record_id: str,
        system: str,
        refusals: Sequence[tuple[str, Any, Any, str]],
        *,
        correlation_id: str | None = None,
    ) -> None:
        """Record writes that were not applied: (field, current, attempted, reason) each."""
        if not refusals:
            return
        now, tx = self.clock(), uuid.uuid4().hex
        entries = [
            audit.AuditEntry(
                at=now,
                transaction_id=tx,
                correlation_id=correlation_id,
                actor=system,
                action="refused",
                entity_type=entity_type,
                record_id=record_id,
                changes=audit.to_json({"fields": {field: [current, attempted]}}),
                reason=reason,
            )
            for field, current, attempted, reason in refusals
        ]
        with self.engine.begin() as conn:
            audit.append(conn, entries)

    def delete(
        self, entity_type: str, record_id: str, valid_from: dt.datetime, *, system: str
    ) -> bool:
        """Record a (hard) delete from `valid_from`; the history before it stays readable."""
        latest = self.get(entity_type, record_id)
        if latest is None:
            return False
        tx = uuid.uuid4().hex
        fact = Fact(
            entity_type,
            record_id,
            latest.payload_json,
            content_hash(latest.payload_json),
            valid_from,
            system,
            None,
            True,
        )

        def attempt(conn: Connection) -> None:
            current = load_current(conn, {(entity_type, record_id)})
            plan = WritePlan(now=self.clock(), tx=tx, actor=system, correlation_id=None)
            plan.apply(fact, current[(entity_type, record_id)])
            plan.flush(conn)

        self._serialised(attempt)
        return True

    # ---- reads --------------------------------------------------------------------------

    def get(
        self,
        entity_type: str,
        record_id: str,
        *,
        valid_at: dt.datetime | None = None,
        known_at: dt.datetime | None = None,
        include_deleted: bool = False,
    ) -> RecordVersion | None:
        """The version of one record valid at `valid_at` as pssync knew it at `known_at`."""
        rv = record_version.c
        stmt = (
            select(record_version)
            .where(rv.entity_type == entity_type, rv.record_id == record_id)
            .where(_as_known(known_at), _as_valid(valid_at))
            .order_by(rv.valid_from.desc())
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        version = version_of_row(row)
        return version if include_deleted or not version.deleted else None

    def iter_records(
        self,
        entity_type: str | None = None,
        *,
        valid_at: dt.datetime | None = None,
        known_at: dt.datetime | None = None,
    ) -> Iterator[RecordVersion]:
        """Every live record of a type (or of all types) as of the given valid and known times."""
        return self._iter(entity_type, _as_known(known_at), _as_valid(valid_at))

    def iter_versions(
        self, entity_type: str | None = None, *, known_at: dt.datetime | None = None
    ) -> Iterator[RecordVersion]:
        """Every valid-time version (the whole business history) as pssync knew it at `known_at`."""
        return self._iter(entity_type, _as_known(known_at))

    def _iter(
        self, entity_type: str | None, *where: ColumnElement[bool]
    ) -> Iterator[RecordVersion]:
        rv = record_version.c
        stmt = select(record_version).where(*where, rv.deleted == 0)
        if entity_type is not None:
            stmt = stmt.where(rv.entity_type == entity_type)
        stmt = stmt.order_by(rv.entity_type, rv.record_id, rv.valid_from)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=2000).execute(stmt):
                yield version_of_row(row)

    def history(self, entity_type: str, record_id: str) -> list[RecordVersion]:
        """Every version ever recorded for one record, oldest belief first."""
        rv = record_version.c
        stmt = (
            select(record_version)
            .where(rv.entity_type == entity_type, rv.record_id == record_id)
            .order_by(rv.recorded_from, rv.valid_from, rv.version_id)
        )
        with self.engine.connect() as conn:
            return [version_of_row(row) for row in conn.execute(stmt)]

    def provenance(
        self,
        entity_type: str,
        record_id: str,
        field_name: str,
        *,
        valid_at: dt.datetime | None = None,
        known_at: dt.datetime | None = None,
    ) -> dict[str, Any] | None:
        """Which system set `field_name`, from which source record, in which transaction, when.

        Each version maps its fields to the transaction that set them; that transaction's own
        version row says which system and source record it came from and when it was recorded.
        """
        version = self.get(entity_type, record_id, valid_at=valid_at, known_at=known_at)
        tx = None if version is None else version.provenance.get(field_name)
        if tx is None:
            return None
        rv = record_version.c
        stmt = (
            select(rv.system, rv.source_record, rv.recorded_from, rv.valid_from)
            .where(
                rv.entity_type == entity_type, rv.record_id == record_id, rv.transaction_id == tx
            )
            .order_by(rv.recorded_from)
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).one()
        return {
            "system": row.system,
            "source_record": row.source_record,
            "transaction_id": tx,
            "recorded_at": row.recorded_from,
            "valid_from": row.valid_from,
        }

    def xrefs(self, entity_type: str, record_id: str) -> dict[str, str]:
        x = xref.c
        stmt = select(x.system, x.object, x.external_id).where(
            x.entity_type == entity_type, x.record_id == record_id
        )
        with self.engine.connect() as conn:
            return {f"{r.system}:{r.object}": r.external_id for r in conn.execute(stmt)}

    def resolve_xref(self, system: str, obj: str, external_id: str) -> tuple[str, str] | None:
        """The canonical (entity type, ID) behind one system's object ID, if known."""
        x = xref.c
        stmt = select(x.entity_type, x.record_id).where(
            x.system == system, x.object == obj, x.external_id == external_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            entity_type, record_id = str(row.entity_type), str(row.record_id)
            for _ in range(10):  # follow merges (duplicate -> survivor), chains included
                m = record_merge.c
                target = conn.execute(
                    select(m.to_id).where(m.entity_type == entity_type, m.from_id == record_id)
                ).scalar_one_or_none()
                if target is None:
                    break
                record_id = str(target)
        return entity_type, record_id

    def counts(self, *, known_at: dt.datetime | None = None) -> dict[str, int]:
        """Live records per entity type (latest valid version)."""
        rv = record_version.c
        stmt = (
            select(rv.entity_type, func.count())
            .where(_as_known(known_at), _as_valid(None), rv.deleted == 0)
            .group_by(rv.entity_type)
            .order_by(rv.entity_type)
        )
        with self.engine.connect() as conn:
            return {str(r[0]): int(r[1]) for r in conn.execute(stmt)}

    def table_counts(self) -> dict[str, int]:
        """Row counts of the history, xref and audit tables (what a no-op must not grow)."""
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (record_version, xref, audit_log)
            }
