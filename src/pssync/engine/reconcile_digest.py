"""Reconciliation's fast path: skip the records whose verdict cannot have changed.

A record's verdict (`reconcile._verdict`) is a function of three things: the source record's
data, the mapping that translates it, and the golden payload it is compared with. When a record
is found in step, reconciliation keeps a digest of the first two (`source_hash`) and the golden
version's content hash (`store.digests`). On the next run a page's records are hashed and read
against those digests and the golden store's current content hashes in a few batch queries;
only a record whose source digest or golden hash differs, or that has no digest yet (new,
missing, drifted, repaired, or never compared), is translated and validated. Deletes are found
as before, from the snapshot's IDs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pssync
from pssync.engine.runtime import Runtime
from pssync.store.digests import digests_and_goldens, live_hashes, write_digests
from pssync.store.lookup import resolve_xrefs


def mapping_fingerprint(runtime: Runtime, system: str, obj: str) -> str:
    """What the verdict depends on besides the record: the mapping, the object, pssync's
    version (the canonical model's validation comes with it)."""
    spec = runtime.translator(system).spec.model_dump_json()
    text = json.dumps([pssync.__version__, system, obj, spec])
    return hashlib.sha256(text.encode()).hexdigest()


def source_hash(fingerprint: str, record: dict[str, Any]) -> str:
    """A digest of the record's data as the connector gave it. `repr` keeps each value's type
    (Decimal("1") and "1" differ) and its keys' order: the same data in another order only
    costs a full compare, never a wrong verdict."""
    return hashlib.blake2b(
        f"{fingerprint}\n{record['data']!r}".encode(), digest_size=32
    ).hexdigest()


def _golden_hashes(
    runtime: Runtime, system: str, obj: str, external_ids: list[str]
) -> dict[str, str]:
    """external ID -> content hash of the golden version it resolves to (merges followed)."""
    engine = runtime.store.engine
    found = resolve_xrefs(engine, system, obj, external_ids)
    hashes = live_hashes(engine, found.values())
    return {ext: hashes[key] for ext, key in found.items() if key in hashes}


def unchanged(
    runtime: Runtime, system: str, obj: str, records: list[dict[str, Any]], fingerprint: str
) -> list[dict[str, Any]]:
    """The records of a page that need comparing in full (in order); the others are in step."""
    ids = [str(r["id"]) for r in records]
    state = digests_and_goldens(runtime.store.engine, system, obj, ids)
    todo = []
    for source_id, record in zip(ids, records, strict=True):
        kept = state.get(source_id)
        if kept is None or kept[1] != kept[2] or kept[0] != source_hash(fingerprint, record):
            todo.append(record)
    return todo


def remember(
    runtime: Runtime, system: str, obj: str, records: list[dict[str, Any]], fingerprint: str
) -> None:
    """Keep the digests of records just found in step."""
    if not records:
        return
    goldens = _golden_hashes(runtime, system, obj, [str(r["id"]) for r in records])
    rows = [
        (str(r["id"]), source_hash(fingerprint, r), goldens[str(r["id"])])
        for r in records
        if str(r["id"]) in goldens
    ]
    write_digests(runtime.store.engine, system, obj, rows)
