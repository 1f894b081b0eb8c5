"""Bitemporal canonical records: write changes, read any record or entity set as known at T.

A change says "from valid time V the record looks like this". Writing it closes (never edits)
the versions it supersedes and inserts the new ones, so every earlier belief stays readable:
`valid_at` picks the business time, `known_at` picks what pssync had recorded by then.
Unchanged content is a no-op, which is what makes re-imports and replays free of side effects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NamedTuple

from pydantic_core import from_json
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)

from pssync.model import CanonicalRecord
from pssync.store import audit
from pssync.store.bulk import insert_rows, select_in
from pssync.store.tables import audit_log, record_merge, record_version, xref

Clock = Callable[[], dt.datetime]
_IN_CHUNK = 500
_XREF_COLUMNS = ("entity_type", "record_id", "system", "object", "external_id", "recorded_at")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def content_hash(payload_json: str) -> str:
    """Digest of a payload's canonical JSON (pydantic's dump: fixed field order, exact Decimals)."""
    return hashlib.sha256(payload_json.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Change:
    """One fact to store: `record` as it is from `valid_from`, as reported by `system`."""

    record: CanonicalRecord
    valid_from: dt.datetime
    system: str
    source_record: str | None = None


@dataclass
class RecordVersion:
    entity_type: str
    record_id: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    recorded_from: dt.datetime
    recorded_to: dt.datetime | None
    payload_json: str
    provenance: dict[str, str]
    transaction_id: str
    content_hash: str
    system: str
    source_record: str | None = None
    deleted: bool = False
    version_id: int | None = None

    @cached_property
    def payload(self) -> dict[str, Any]:
        """The canonical payload, parsed on first use (bulk writes of new records never need it)."""
        result: dict[str, Any] = json.loads(self.payload_json)
        return result

    def covers(self, at: dt.datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


@dataclass
class WriteResult:
    transaction_id: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


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


def version_of_row(row: Any) -> RecordVersion:
    """A `record_version` row as a RecordVersion (the store's reads and `lookup`'s)."""
    return RecordVersion(
        entity_type=row.entity_type,
        record_id=row.record_id,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        recorded_from=row.recorded_from,
        recorded_to=row.recorded_to,
        payload_json=row.payload,
        provenance=json.loads(row.provenance),
        transaction_id=row.transaction_id,
        content_hash=row.content_hash,
        system=row.system,
        source_record=row.source_record,
        deleted=bool(row.deleted),
        version_id=row.version_id,
    )


# Existing versions, by the IDs `select_in` found (an expanding IN: these are few on an import).
_BY_VERSION_ID = (
    select(record_version)
    .where(record_version.c.version_id.in_(bindparam("ids", expanding=True)))
    .order_by(record_version.c.version_id)
)


def _field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field-level before/after; a new record lists only the fields it sets."""
    keys = before.keys() | after.keys()
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


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
        result = WriteResult(transaction_id=tx)
        if not facts:
            return result
        with self.engine.begin() as conn:
            now = self.clock()
            current = self._load_current(conn, {(f.entity_type, f.record_id) for f in facts})
            plan = _WritePlan(now=now, tx=tx, actor=actor, correlation_id=correlation_id)
            for fact in facts:
                outcome = plan.apply(
                    fact, current.setdefault((fact.entity_type, fact.record_id), [])
                )
                result.unchanged += outcome == "unchanged"
                result.created += outcome == "created"
                result.updated += outcome == "updated"
            plan.flush(conn)
            self._add_xrefs(conn, facts, now)
        return result

    def _load_current(
        self, conn: Connection, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], list[RecordVersion]]:
        """The current versions of `keys`: their IDs first (most keys of an import are new, so
        this is usually all), then the rows of those that exist."""
        by_type: dict[str, list[str]] = defaultdict(list)
        for entity_type, record_id in keys:
            by_type[entity_type].append(record_id)
        version_ids: list[int] = []
        for entity_type, ids in by_type.items():
            for start in range(0, len(ids), _IN_CHUNK):
                version_ids += select_in(
                    conn,
                    record_version,
                    "version_id",
                    {"entity_type": entity_type},
                    "record_id",
                    ids[start : start + _IN_CHUNK],
                    null=("recorded_to",),
                )
        found: dict[tuple[str, str], list[RecordVersion]] = defaultdict(list)
        for start in range(0, len(version_ids), _IN_CHUNK):
            chunk = version_ids[start : start + _IN_CHUNK]
            for row in conn.execute(_BY_VERSION_ID, {"ids": chunk}):
                found[(row.entity_type, row.record_id)].append(version_of_row(row))
        return found

    def _add_xrefs(self, conn: Connection, facts: Sequence[Fact], now: dt.datetime) -> None:
        wanted: dict[tuple[str, str, str], tuple[str, str]] = {}
        for fact in facts:
            for system_object, external_id in fact.xrefs:
                system, _, obj = system_object.partition(":")
                wanted[(system, obj or fact.entity_type, external_id)] = (
                    fact.entity_type,
                    fact.record_id,
                )
        if not wanted:
            return
        # Looked up per (system, object) so each query walks the unique index instead of
        # scanning the whole xref table (which made an import's cost grow with the table).
        by_object: dict[tuple[str, str], list[str]] = defaultdict(list)
        for system, obj, external_id in wanted:
            by_object[(system, obj)].append(external_id)
        existing: set[tuple[str, str, str]] = set()
        for (system, obj), ext_ids in by_object.items():
            for start in range(0, len(ext_ids), _IN_CHUNK):
                chunk = ext_ids[start : start + _IN_CHUNK]
                equal = {"system": system, "object": obj}
                found = select_in(conn, xref, "external_id", equal, "external_id", chunk)
                existing.update((system, obj, e) for e in found)
        rows = [
            (et, rid, system, obj, ext, now)
            for (system, obj, ext), (et, rid) in wanted.items()
            if (system, obj, ext) not in existing
        ]
        insert_rows(conn, xref, _XREF_COLUMNS, rows)

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
        with self.engine.begin() as conn:
            current = self._load_current(conn, {(entity_type, record_id)})
            plan = _WritePlan(now=self.clock(), tx=tx, actor=system, correlation_id=None)
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
            plan.apply(fact, current[(entity_type, record_id)])
            plan.flush(conn)
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


class Fact(NamedTuple):
    """What the write plan needs of a change: a payload for one key from one valid time.

    Plain values only (no pydantic objects), so a bulk import can build facts in a worker
    process and send them back cheaply.
    """

    entity_type: str
    record_id: str
    payload_json: str
    digest: str  # `content_hash(payload_json)`
    valid_from: dt.datetime
    system: str
    source_record: str | None
    deleted: bool = False
    # The payload's non-empty fields (what a new record's provenance lists); None: derive them.
    fields: tuple[str, ...] | None = None
    xrefs: tuple[tuple[str, str], ...] = ()
    valid_from_text: str | None = None  # `valid_from.isoformat()`, as the audit row states it

    @classmethod
    def of(cls, change: Change) -> Fact:
        record = change.record
        payload_json = record.model_dump_json()
        return cls(
            record.entity_type,
            record.id,
            payload_json,
            content_hash(payload_json),
            change.valid_from,
            change.system,
            change.source_record,
            False,
            set_fields(record),
            tuple(record.xrefs.items()),
            change.valid_from.isoformat(),
        )


def set_fields(record: CanonicalRecord) -> tuple[str, ...]:
    """The keys of `record.model_dump_json()` whose value is neither null nor ``[]``, in order.

    Read off the model instead of re-parsing the dump: the dump has exactly the model's fields
    in declaration order (no aliases, exclusions, computed fields or custom serialisers in the
    canonical model, and extra keys are forbidden); a value dumps as null only when it is None
    and as ``[]`` only when it is an empty list, tuple or set. `tests/store/test_history.py`
    checks this against the dump for every entity type.
    """
    values = record.__dict__
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = tuple(type(record).model_fields)
    return tuple(
        [
            name
            for name in names
            if (v := values[name]) is not None and not (type(v) in _SEQUENCES and not v)
        ]
    )


_SEQUENCES = frozenset({list, tuple, set, frozenset})
# Model class -> its field names (`model_fields` is a descriptor call on every access).
_FIELD_NAMES: dict[type[CanonicalRecord], tuple[str, ...]] = {}


def json_loads(text: str) -> Any:
    """`json.loads`, done by pydantic-core's parser (twice as fast, same values: exact big
    integers, NaN and Infinity). What it refuses (lone surrogates) or any invalid text goes to
    the standard library, which then decides and words the error."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


_VERSION_COLUMNS = (
    "entity_type",
    "record_id",
    "valid_from",
    "valid_to",
    "recorded_from",
    "recorded_to",
    "content_hash",
    "payload",
    "provenance",
    "transaction_id",
    "system",
    "source_record",
    "deleted",
)


@dataclass
class _WritePlan:
    """Collects the row operations of one transaction so they run as a few executemany calls."""

    now: dt.datetime
    tx: str
    actor: str
    correlation_id: str | None
    closes: list[int] = field(default_factory=list)
    inserts: list[RecordVersion] = field(default_factory=list)
    audits: list[audit.AuditItem] = field(default_factory=list)
    shared: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict)
    actors: dict[str, str] = field(default_factory=dict)

    def apply(self, fact: Fact, versions: list[RecordVersion]) -> str:
        digest = fact.digest
        if not versions and not fact.deleted:
            self._create(fact, digest, versions)
            return "created"
        deleted, start = fact.deleted, fact.valid_from
        covering = next((v for v in versions if v.covers(start)), None)
        if covering is not None and covering.content_hash == digest and covering.deleted == deleted:
            return "unchanged"
        later = [v.valid_from for v in versions if v.valid_from > start]
        if covering is None:  # a new record: every field it sets comes from this transaction
            diff: dict[str, list[Any]] = {}
            payload = json_loads(fact.payload_json)
            provenance = {k: self.tx for k, v in payload.items() if v is not None and v != []}
        else:
            diff = _field_changes(covering.payload, json_loads(fact.payload_json))
            provenance = {**covering.provenance, **dict.fromkeys(diff, self.tx)}
        for old in [v for v in versions if v.valid_from == start or v is covering]:
            self._close(old, versions)
            if old.valid_from < start:
                self._insert(versions, old, valid_to=start)
        new = RecordVersion(
            entity_type=fact.entity_type,
            record_id=fact.record_id,
            valid_from=start,
            valid_to=min(later) if later else None,
            recorded_from=self.now,
            recorded_to=None,
            payload_json=fact.payload_json,
            provenance=provenance,
            transaction_id=self.tx,
            content_hash=digest,
            system=fact.system,
            source_record=fact.source_record,
            deleted=deleted,
        )
        versions.append(new)
        self.inserts.append(new)
        action = "delete" if deleted else ("update" if covering is not None else "create")
        self._audit(
            fact, action, self._changes_text(start, diff, fact.payload_json, covering is None)
        )
        return "updated" if covering is not None else "created"

    def _create(self, fact: Fact, digest: str, versions: list[RecordVersion]) -> None:
        """`apply` for a key with no version yet (the bulk of an import): nothing to cover, close
        or diff, so the new version runs open-ended and every field it sets is from this tx."""
        fields = fact.fields
        if fields is None:
            payload = json_loads(fact.payload_json)
            fields = tuple([k for k, v in payload.items() if v is not None and v != []])
        # Records of one shape share one provenance map; maps are replaced, never mutated.
        provenance = self.shared.get(fields)
        if provenance is None:
            provenance = self.shared[fields] = dict.fromkeys(fields, self.tx)
        new = RecordVersion(
            fact.entity_type,
            fact.record_id,
            fact.valid_from,
            None,
            self.now,
            None,
            fact.payload_json,
            provenance,
            self.tx,
            digest,
            fact.system,
            fact.source_record,
        )
        versions.append(new)
        self.inserts.append(new)
        start = fact.valid_from_text or fact.valid_from.isoformat()
        actor = self.actors.get(fact.system)
        if actor is None:
            actor = self.actors[fact.system] = f"{self.actor}/{fact.system}"
        self.audits.append(  # `_audit`, inlined: this runs once per record of an import
            (
                self.now,
                self.tx,
                self.correlation_id,
                actor,
                "create",
                fact.entity_type,
                fact.record_id,
                f'{{"after":{fact.payload_json},"valid_from":"{start}"}}',
                None,
            )
        )

    def _audit(self, fact: Fact, action: str, changes: str) -> None:
        actor = self.actors.get(fact.system)
        if actor is None:
            actor = self.actors[fact.system] = f"{self.actor}/{fact.system}"
        self.audits.append(
            (
                self.now,
                self.tx,
                self.correlation_id,
                actor,
                action,
                fact.entity_type,
                fact.record_id,
                changes,
                None,
            )
        )

    @staticmethod
    def _changes_text(
        start: dt.datetime, diff: dict[str, list[Any]], payload_json: str, new: bool
    ) -> str:
        """Field-level before/after. A new record has no "before": its payload is the "after",
        reused as already-serialised text so an import does not serialise every record twice."""
        if new:
            return f'{{"after":{payload_json},"valid_from":"{start.isoformat()}"}}'
        return audit.to_json({"fields": diff, "valid_from": start.isoformat()})

    def _close(self, old: RecordVersion, versions: list[RecordVersion]) -> None:
        versions.remove(old)
        if old.version_id is not None:
            self.closes.append(old.version_id)
        else:  # superseded within this same batch: never reaches the database
            self.inserts.remove(old)

    def _insert(
        self, versions: list[RecordVersion], old: RecordVersion, valid_to: dt.datetime
    ) -> None:
        split = replace(old, version_id=None, valid_to=valid_to, recorded_from=self.now)
        versions.append(split)
        self.inserts.append(split)

    def flush(self, conn: Connection) -> None:
        rv = record_version.c
        if self.closes:
            conn.execute(
                update(record_version)
                .where(rv.version_id == bindparam("vid"))
                .values(recorded_to=self.now),
                [{"vid": vid} for vid in self.closes],
            )
        if self.inserts:
            # New versions of one batch mostly share a provenance map object (see `_create`).
            texts: dict[int, str] = {}
            rows = []
            for v in self.inserts:
                text = texts.get(id(v.provenance))
                if text is None:
                    text = texts[id(v.provenance)] = json.dumps(v.provenance, separators=(",", ":"))
                rows.append(
                    (
                        v.entity_type,
                        v.record_id,
                        v.valid_from,
                        v.valid_to,
                        v.recorded_from,
                        None,
                        v.content_hash,
                        v.payload_json,
                        text,
                        v.transaction_id,
                        v.system,
                        v.source_record,
                        int(v.deleted),
                    )
                )
            insert_rows(conn, record_version, _VERSION_COLUMNS, rows)
        audit.append_rows(conn, self.audits)
