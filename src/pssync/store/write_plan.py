"""One write transaction of the golden store: load the current versions of its keys, plan the
closes, inserts and audit rows each fact needs, flush them as a few executemany calls, and add
the facts' cross-references."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from pssync.store import audit, compare_digest
from pssync.store.bulk import insert_rows, select_in
from pssync.store.tables import record_version, xref
from pssync.store.versions import Fact, RecordVersion, json_loads, version_of_row

_IN_CHUNK = 500


class StaleWriteError(Exception):
    """A version this write meant to close was closed by a concurrent transaction."""


_XREF_COLUMNS = (
    *("entity_type", "record_id", "system", "object", "external_id"),
    *("recorded_at", "compare_digest"),
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


def load_current(
    conn: Connection, keys: set[tuple[str, str]]
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


def add_xrefs(
    conn: Connection,
    facts: Sequence[Fact],
    now: dt.datetime,
    payloads: Mapping[tuple[str, str], str | None],
) -> None:
    """Link each fact's new external IDs to its record, each with its compare digest from
    `payloads` (the records' new current versions; see `compare_digest.refresh`)."""
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
    new = [
        (et, rid, system, obj, ext)
        for (system, obj, ext), (et, rid) in wanted.items()
        if (system, obj, ext) not in existing
    ]
    digests = compare_digest.digests_for(payloads, [(et, rid, s, o) for et, rid, s, o, _ in new])
    rows = [(*link, now, digest) for link, digest in zip(new, digests, strict=True)]
    insert_rows(conn, xref, _XREF_COLUMNS, rows)


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
class WritePlan:
    """Collects the row operations of one transaction so they run as a few executemany calls."""

    now: dt.datetime
    tx: str
    actor: str
    correlation_id: str | None
    closes: list[int] = field(default_factory=list)
    # New versions by identity, in order: one superseded within the batch is dropped in O(1)
    # (a list's `remove` compared whole versions, payloads included, against every insert).
    inserts: dict[int, RecordVersion] = field(default_factory=dict)
    audits: list[audit.AuditItem] = field(default_factory=list)
    shared: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict)
    actors: dict[str, str] = field(default_factory=dict)
    # Keys this plan creates: no version before, hence no link with a digest to refresh (a
    # digest is only ever set from a version, and versions are never removed).
    created: set[tuple[str, str]] = field(default_factory=set)

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
        self.inserts[id(new)] = new
        action = "delete" if deleted else ("update" if covering is not None else "create")
        self._audit(
            fact, action, self._changes_text(start, diff, fact.payload_json, covering is None)
        )
        return "updated" if covering is not None else "created"

    def current_payloads(self) -> dict[tuple[str, str], str | None]:
        """The records whose current version this plan replaces: their new payload (JSON
        text), or None where it is a delete."""
        return {
            (v.entity_type, v.record_id): None if v.deleted else v.payload_json
            for v in self.inserts.values()
            if v.valid_to is None
        }

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
        self.inserts[id(new)] = new
        self.created.add((fact.entity_type, fact.record_id))
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
        del versions[next(i for i, v in enumerate(versions) if v is old)]
        if old.version_id is not None:
            self.closes.append(old.version_id)
        else:  # superseded within this same batch: never reaches the database
            del self.inserts[id(old)]

    def _insert(
        self, versions: list[RecordVersion], old: RecordVersion, valid_to: dt.datetime
    ) -> None:
        split = replace(old, version_id=None, valid_to=valid_to, recorded_from=self.now)
        versions.append(split)
        self.inserts[id(split)] = split

    def flush(self, conn: Connection) -> None:
        rv = record_version.c
        # Only a version still current is closed: if another transaction closed one of them
        # since `load_current` read it, this plan was made from a stale belief and must not
        # land (the caller re-reads and re-applies; see `GoldenStore.write_facts`).
        for start in range(0, len(self.closes), _IN_CHUNK):
            chunk = self.closes[start : start + _IN_CHUNK]
            closed = conn.execute(
                update(record_version)
                .where(rv.version_id.in_(chunk), rv.recorded_to.is_(None))
                .values(recorded_to=self.now)
            ).rowcount
            if closed != len(chunk):
                raise StaleWriteError(f"{len(chunk) - closed} version(s) closed by another writer")
        if self.inserts:
            # New versions of one batch mostly share a provenance map object (see `_create`).
            texts: dict[int, str] = {}
            rows = []
            for v in self.inserts.values():
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
        # Every write of a current version passes here: its links' compare digests follow it
        # (a created record's links are new: `add_xrefs` gives them theirs).
        current = self.current_payloads()
        compare_digest.refresh(conn, {k: v for k, v in current.items() if k not in self.created})
