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

from sqlalchemy import Column, Engine, PrimaryKeyConstraint, String, Table

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


def read_digests(
    engine: Engine, system: str, obj: str, external_ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """external ID -> (source hash, golden hash) of the IDs that have a digest."""
    found: dict[str, tuple[str, str]] = {}
    columns = ("external_id", "source_hash", "golden_hash")
    with engine.connect() as conn:
        for start in range(0, len(external_ids), _CHUNK):
            part = external_ids[start : start + _CHUNK]
            equal = {"system": system, "object": obj}
            for ext, source, golden in select_in(
                conn, source_digest, columns, equal, "external_id", part
            ):
                found[str(ext)] = (str(source), str(golden))
    return found


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
