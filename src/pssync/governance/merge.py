"""Merge a duplicate customer master into its survivor, keeping both sources' IDs.

The duplicate is closed in the golden store (its history stays readable), a redirect makes every
one of its xrefs resolve to the survivor, and xrefs from systems the survivor is not yet known in
move over, so the survivor now carries both sources. The merge is audited, and the duplicate's
open `duplicate_customer` exceptions are resolved with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from pssync.governance.exceptions import ACTIVE, ExceptionStore
from pssync.store import GoldenStore, audit
from pssync.store.tables import record_merge, xref


@dataclass
class MergeResult:
    survivor: str
    merged: str
    moved_xrefs: list[str]
    redirected_xrefs: list[str]
    resolved_exceptions: list[str]


def merge_records(
    store: GoldenStore,
    exceptions: ExceptionStore,
    entity_type: str,
    survivor: str,
    duplicate: str,
    *,
    actor: str,
) -> MergeResult:
    if survivor == duplicate:
        raise ValueError("a record cannot be merged into itself")
    live = {record_id: store.get(entity_type, record_id) for record_id in (survivor, duplicate)}
    for record_id, version in live.items():
        if version is None:
            raise KeyError(f"no live {entity_type} {record_id}")
    now, x = store.clock(), xref.c
    closing = live[duplicate]
    assert closing is not None
    ends = max(now, closing.valid_from)  # a future-dated duplicate ends when it would start
    with store.engine.begin() as conn:
        kept = {
            (r.system, r.object)
            for r in conn.execute(
                select(x.system, x.object).where(
                    x.entity_type == entity_type, x.record_id == survivor
                )
            )
        }
        rows = conn.execute(
            select(x.xref_id, x.system, x.object, x.external_id).where(
                x.entity_type == entity_type, x.record_id == duplicate
            )
        ).all()
        moved = [r for r in rows if (r.system, r.object) not in kept]
        for row in moved:
            # Its compare digest was the duplicate's: unknown until the survivor's next write.
            conn.execute(
                update(xref)
                .where(x.xref_id == row.xref_id)
                .values(record_id=survivor, compare_digest=None)
            )
        conn.execute(
            insert(record_merge).values(
                entity_type=entity_type,
                from_id=duplicate,
                to_id=survivor,
                merged_at=now,
                actor=actor,
            )
        )
        audit.append(
            conn,
            [
                audit.AuditEntry(
                    at=now,
                    transaction_id=uuid.uuid4().hex,
                    actor=actor,
                    action="merge",
                    entity_type=entity_type,
                    record_id=duplicate,
                    changes=audit.to_json({"merged_into": survivor}),
                    reason=f"duplicate of {survivor}",
                )
            ],
        )
    store.delete(entity_type, duplicate, ends, system="pssync")
    resolved = [
        e.id
        for e in exceptions.find(states=[s.value for s in ACTIVE], category="duplicate_customer")
        if e.record_id in (duplicate, survivor)
    ]
    for exc_id in resolved:
        exceptions.resolve(exc_id, f"merged {duplicate} into {survivor}", actor)
    names = {r.xref_id: f"{r.system}:{r.object}:{r.external_id}" for r in rows}
    moved_ids = {r.xref_id for r in moved}
    return MergeResult(
        survivor,
        duplicate,
        [names[i] for i in names if i in moved_ids],
        [names[i] for i in names if i not in moved_ids],
        resolved,
    )
