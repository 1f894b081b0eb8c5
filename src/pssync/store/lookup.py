"""Batch reads of the golden store for callers that handle a page of records at once.

`GoldenStore.get` and `GoldenStore.resolve_xref` answer one record per query; the sync engine's
page pipeline asks the same questions for every record of a page, where one query per page
answers all of them. These helpers give exactly the answers of the one-record methods (same
filters, merges followed the same way), only for many keys per statement.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, select

from pssync.store.bulk import select_in
from pssync.store.history import RecordVersion, version_of_row
from pssync.store.tables import record_merge, record_version, xref

# Bound parameters per IN list: well under SQLite's and PostgreSQL's limits.
_CHUNK = 500
# Merge chains followed at most this deep (as `GoldenStore.resolve_xref` does).
_MERGE_DEPTH = 10

Key = tuple[str, str]  # (entity type, record ID)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def resolve_xrefs(
    engine: Engine, system: str, obj: str, external_ids: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """external ID -> canonical (entity type, ID), merges followed; unknown IDs are absent.

    The batch form of `GoldenStore.resolve_xref` for one system's object.
    """
    wanted = list(dict.fromkeys(external_ids))
    found: dict[str, tuple[str, str]] = {}
    m = record_merge.c
    with engine.connect() as conn:
        for part in _chunks(wanted):
            for external_id, entity_type, record_id in select_in(
                conn,
                xref,
                ("external_id", "entity_type", "record_id"),
                {"system": system, "object": obj},
                "external_id",
                part,
            ):
                found[str(external_id)] = (str(entity_type), str(record_id))
        by_type: dict[str, set[str]] = defaultdict(set)
        for entity_type, record_id in found.values():
            by_type[entity_type].add(record_id)
        survivors: dict[Key, str] = {}
        for entity_type, ids in by_type.items():
            pending = set(ids)
            for _ in range(_MERGE_DEPTH):
                if not pending:
                    break
                step: dict[str, str] = {}
                for part in _chunks(sorted(pending)):
                    stmt = select(m.from_id, m.to_id).where(
                        m.entity_type == entity_type, m.from_id.in_(part)
                    )
                    step.update((str(r.from_id), str(r.to_id)) for r in conn.execute(stmt))
                for record_id, target in step.items():
                    survivors[(entity_type, record_id)] = target
                pending = set(step.values())
    out: dict[str, tuple[str, str]] = {}
    for external_id, (entity_type, record_id) in found.items():
        for _ in range(_MERGE_DEPTH):
            if (entity_type, record_id) not in survivors:
                break
            record_id = survivors[(entity_type, record_id)]
        out[external_id] = (entity_type, record_id)
    return out


def known_versions(engine: Engine, keys: Iterable[Key]) -> dict[Key, list[RecordVersion]]:
    """Every valid-time version pssync currently believes (recorded_to is null) of each record,
    newest valid_from first; records the store does not hold are absent."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for entity_type, record_id in dict.fromkeys(keys):
        by_type[entity_type].append(record_id)
    found: dict[Key, list[RecordVersion]] = defaultdict(list)
    rv = record_version.c
    with engine.connect() as conn:
        for entity_type, ids in by_type.items():
            for part in _chunks(ids):
                stmt = select(record_version).where(
                    rv.entity_type == entity_type,
                    rv.record_id.in_(part),
                    rv.recorded_to.is_(None),
                )
                for row in conn.execute(stmt):
                    found[(row.entity_type, row.record_id)].append(version_of_row(row))
    for versions in found.values():
        versions.sort(key=lambda v: v.valid_from, reverse=True)
    return dict(found)


def version_at(
    versions: Sequence[RecordVersion] | None,
    valid_at: dt.datetime | None = None,
    *,
    include_deleted: bool = False,
) -> RecordVersion | None:
    """What `GoldenStore.get(..., valid_at=valid_at)` answers, from `known_versions`' list."""
    for version in versions or ():
        covers = version.valid_to is None if valid_at is None else version.covers(valid_at)
        if covers:
            return version if include_deleted or not version.deleted else None
    return None


def latest(engine: Engine, keys: Iterable[Key]) -> dict[Key, RecordVersion]:
    """The batch form of `GoldenStore.get(entity_type, record_id)`: the current live version of
    each record that has one."""
    out: dict[Key, RecordVersion] = {}
    for key, versions in known_versions(engine, keys).items():
        version = version_at(versions)
        if version is not None:
            out[key] = version
    return out


def live_payloads(engine: Engine, keys: Iterable[Key]) -> dict[Key, str]:
    """The payload JSON of each record's current live version: what `latest` answers, read
    lean (four columns, no version objects) for callers that only compare content."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for entity_type, record_id in dict.fromkeys(keys):
        by_type[entity_type].append(record_id)
    newest: dict[Key, tuple[dt.datetime, bool, str]] = {}
    rv = record_version.c
    with engine.connect() as conn:
        for entity_type, ids in by_type.items():
            for part in _chunks(ids):
                stmt = select(rv.record_id, rv.valid_from, rv.deleted, rv.payload).where(
                    rv.entity_type == entity_type,
                    rv.record_id.in_(part),
                    rv.recorded_to.is_(None),
                    rv.valid_to.is_(None),
                )
                for record_id, valid_from, deleted, payload in conn.execute(stmt):
                    key = (entity_type, str(record_id))
                    if key not in newest or valid_from > newest[key][0]:
                        newest[key] = (valid_from, bool(deleted), str(payload))
    return {key: payload for key, (_, deleted, payload) in newest.items() if not deleted}


def links_of(
    engine: Engine, system: str, objects: Iterable[str], external_ids: Iterable[str]
) -> dict[str, set[str]]:
    """external ID -> the canonical IDs the xref map links it to in any of `system`'s
    `objects` (each asked by the (system, object, external ID) index)."""
    wanted = sorted(set(external_ids))
    found: dict[str, set[str]] = defaultdict(set)
    with engine.connect() as conn:
        for obj in dict.fromkeys(objects):
            for part in _chunks(wanted):
                for external_id, record_id in select_in(
                    conn,
                    xref,
                    ("external_id", "record_id"),
                    {"system": system, "object": obj},
                    "external_id",
                    part,
                ):
                    found[str(external_id)].add(str(record_id))
    return dict(found)
