"""Source digests: what each system's record looked like when reconciliation last found it in
step with the golden store.

A row holds, per system object and external ID, a digest of the source record (with the
mapping it was translated by) and the content hash of the golden version it was compared with.
While both still match, the record's verdict cannot have changed: the verdict is a function of
the source record, the mapping and the golden payload. Reconciliation then skips translating
and validating it; any other record (a new digest, a golden version written since, a record
never seen) is compared in full.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Engine, PrimaryKeyConstraint, String, Table, bindparam, text

from pssync.store.bulk import insert_rows, on_conflict_clause, select_in
from pssync.store.tables import metadata, record_version

source_digest = Table(
    "source_digest",
    metadata,
    Column("system", String(64), nullable=False),
    Column("object", String(128), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("golden_hash", String(64), nullable=False),
    PrimaryKeyConstraint("system", "object", "external_id"),
)

_CHUNK = 500
Key = tuple[str, str]  # (entity type, record ID)


_STATE = text(
    "SELECT d.external_id, d.source_hash, d.golden_hash, x.entity_type, x.record_id, m.to_id,"
    " v.valid_from, v.deleted, v.content_hash"
    " FROM source_digest d"
    " JOIN xref x ON x.system = d.system AND x.object = d.object"
    " AND x.external_id = d.external_id"
    " LEFT JOIN record_merge m ON m.entity_type = x.entity_type AND m.from_id = x.record_id"
    " LEFT JOIN record_version v ON v.entity_type = x.entity_type AND v.record_id = x.record_id"
    " AND v.recorded_to IS NULL AND v.valid_to IS NULL"
    " WHERE d.system = :system AND d.object = :object AND d.external_id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def digests_and_goldens(
    engine: Engine, system: str, obj: str, external_ids: Sequence[str]
) -> dict[str, tuple[str, str, str | None]]:
    """external ID -> (source hash, golden hash kept, content hash of the golden version the
    ID links to now), for the IDs with a digest, in one joined read per 500 IDs. The current
    hash is None, so the record is compared in full, where the link is not plain: the
    record was merged into another, is deleted, or the ID links to more than one record."""
    rows: dict[str, list[Any]] = defaultdict(list)
    with engine.connect() as conn:
        for start in range(0, len(external_ids), _CHUNK):
            part = list(external_ids[start : start + _CHUNK])
            params = {"system": system, "object": obj, "ids": part}
            for row in conn.execute(_STATE, params):
                rows[str(row[0])].append(row)
    out: dict[str, tuple[str, str, str | None]] = {}
    for ext, found in rows.items():
        first = found[0]
        current: str | None = None
        links = {(r[3], r[4]) for r in found}
        live = [r for r in found if r[8] is not None]
        if len(links) == 1 and first[5] is None and live:
            newest = max(live, key=lambda r: r[6])
            current = None if newest[7] else str(newest[8])
        out[ext] = (str(first[1]), str(first[2]), current)
    return out


def write_digests(
    engine: Engine, system: str, obj: str, rows: Sequence[tuple[str, str, str]]
) -> None:
    """Record (external ID, source hash, golden hash) rows, replacing earlier ones."""
    if not rows:
        return
    columns = ("system", "object", "external_id", "source_hash", "golden_hash")
    with engine.begin() as conn:
        insert_rows(
            conn,
            source_digest,
            columns,
            [(system, obj, *row) for row in rows],
            on_conflict=on_conflict_clause(
                conn.dialect, source_digest, ("source_hash", "golden_hash")
            ),
        )


def live_hashes(engine: Engine, keys: Iterable[Key]) -> dict[Key, str]:
    """The content hash of each record's current live version (as `lookup.live_payloads`
    chooses it: the newest valid-from among the current rows, absent if deleted)."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for entity_type, record_id in dict.fromkeys(keys):
        by_type[entity_type].append(record_id)
    newest: dict[Key, tuple[Any, bool, str]] = {}
    columns = ("record_id", "valid_from", "deleted", "content_hash")
    with engine.connect() as conn:
        for entity_type, ids in by_type.items():
            for start in range(0, len(ids), _CHUNK):
                for record_id, valid_from, deleted, digest in select_in(
                    conn,
                    record_version,
                    columns,
                    {"entity_type": entity_type},
                    "record_id",
                    ids[start : start + _CHUNK],
                    null=("recorded_to", "valid_to"),
                ):
                    # The driver's own values: one dialect's timestamps compare among themselves.
                    key = (entity_type, str(record_id))
                    if key not in newest or valid_from > newest[key][0]:
                        newest[key] = (valid_from, bool(deleted), str(digest))
    return {key: digest for key, (_, deleted, digest) in newest.items() if not deleted}
