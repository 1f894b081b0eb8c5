"""Deterministic identities: event keys, canonical IDs, external IDs, workflow IDs.

Every identity the engine mints is a function of what it describes, never a random number, so
a replay, a recovered workflow or a second worker computes the same one. That is what turns
"at least once" into "exactly once in effect": the inbox, DBOS workflow IDs and the targets'
upsert-by-external-ID all dedupe on these values.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from pssync.store import GoldenStore


def digest(*parts: str, length: int = 32) -> str:
    """A short, stable hex digest of `parts` (separator-safe)."""
    text = "\x1f".join(parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def content_digest(data: dict[str, Any]) -> str:
    """Digest of a vendor or canonical payload, independent of key order."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_version(modified_at: str, data: dict[str, Any]) -> str:
    """The version part of an event key: the source's change stamp plus a content digest.

    Stamps can be coarse (SAP business partners are stamped to the second), so two real changes
    may share one; the digest keeps them apart while an identical redelivery keeps its key.
    """
    return f"{modified_at}#{content_digest(data)[:12]}"


def stamp_of(version: str) -> str:
    """The change-stamp part of an event version (what orders a record's changes)."""
    return version.partition("#")[0]


def event_key(system: str, obj: str, source_id: str, version: str) -> str:
    """The inbox key of one change: system:object:id:version, hashed to a fixed width."""
    return digest(system, obj, source_id, version, length=40)


def new_canonical_id(entity_type: str, system: str, obj: str, source_id: str) -> str:
    """The canonical ID of a record first seen in `system` (same inputs, same ID)."""
    return f"{entity_type.lower()}-{digest(system, obj, source_id, length=20)}"


def canonical_id(
    store: GoldenStore, entity_type: str, system: str, obj: str, source_id: str
) -> str:
    """The known canonical ID behind a source record (xref), else the deterministic new one."""
    found = store.resolve_xref(system, obj, source_id)
    if found is not None and found[0] == entity_type:
        return found[1]
    return new_canonical_id(entity_type, system, obj, source_id)


def external_id(entity_type: str, record_id: str, max_length: int = 20) -> str:
    """The external ID pssync writes into a target's external-ID field for a canonical record.

    The canonical ID itself when it fits (readable in the target), otherwise a base32 digest
    of it with a ``PS`` prefix, short enough for fields like SAP's 20-character
    ``BusinessPartnerIDByExtSystem``.
    """
    if len(record_id) <= max_length:
        return record_id
    raw = hashlib.sha256(f"{entity_type}:{record_id}".encode()).digest()
    return "PS" + base64.b32encode(raw).decode("ascii")[: max_length - 2]
