"""Optimistic concurrency on the Enterprise Project API: ETags out, ``If-Match`` in.

API_ENTERPRISE_PROJECT_SRV marks ``LastChangeDateTime`` as its concurrency token, so every read
of a project or project element carries the entity's ETag (``__metadata.etag`` in the JSON and,
for a single entity, the ``ETag`` header). SAP refuses an update without ``If-Match`` with
``428 Precondition Required`` (SAP KBA 3514624, KBA 2962502: "make a first GET call to get the
ETag, fill it as If-Match in the PATCH"), and one whose ETag is no longer current with
``412 Precondition Failed``, the entity having changed since it was read. The ETag has SAP
Gateway's shape for a timestamp token: ``W/"datetimeoffset'2024-06-30T10%3A00%3A00.0000000Z'"``.
"""

from __future__ import annotations

from typing import Any

from pssync.sandbox.sap_s4.errors import ODataError
from pssync.sandbox.sap_s4.schema import EntitySet
from pssync.sandbox.sap_s4.values import parse_wire_datetime


def etag_of(entity_set: EntitySet, record: dict[str, Any]) -> str | None:
    """The entity's ETag, or None for entity sets without a concurrency token."""
    if entity_set.etag is None:
        return None
    wire = record.get(entity_set.etag)
    if not wire:
        return 'W/"null"'
    moment = parse_wire_datetime(str(wire))
    text = moment.strftime("%Y-%m-%dT%H%%3A%M%%3A%S.") + f"{moment.microsecond:06d}0Z"
    return f"W/\"datetimeoffset'{text}'\""


def check_if_match(entity_set: EntitySet, record: dict[str, Any], header: str | None) -> None:
    """Refuse a modifying request on an ETag-guarded entity: 428 without If-Match, 412 when
    none of the given ETags is the current one (``*`` matches any, as HTTP defines)."""
    current = etag_of(entity_set, record)
    if current is None:
        return
    if not header or not header.strip():
        raise ODataError(
            428,
            "Precondition required: send If-Match with the ETag of the last read",
            target=entity_set.etag or "",
        )
    given = [part.strip() for part in header.split(",")]
    if "*" not in given and current not in given:
        raise ODataError(
            412,
            "Precondition failed: the entity was changed since it was read (ETag mismatch)",
            target=entity_set.etag or "",
        )
