"""Source records as workflows carry them, and the inbox event each one is.

Workflow inputs are plain JSON (DBOS replays a workflow from them), so a connector's
`SourceRecord` travels as a dict: ID, raw data, modification stamp, deletion flag, and an
optional tag that makes a deliberate re-application (a repair, a replay) a new event.
"""

from __future__ import annotations

from typing import Any

from pssync.engine.ids import event_key, event_version
from pssync.engine.inbox import Event


def source_record(
    record_id: str,
    data: dict[str, Any],
    modified_at: str | None = None,
    deleted: bool = False,
    tag: str | None = None,
) -> dict[str, Any]:
    """The serialisable form of a `SourceRecord` that workflows carry. `tag` makes a
    deliberate re-application (a reconciliation repair) a new event rather than a duplicate."""
    record = {"id": record_id, "data": data, "modified_at": modified_at, "deleted": deleted}
    if tag:
        record["tag"] = tag
    return record


def event_of(system: str, obj: str, record: dict[str, Any]) -> Event:
    """The inbox event of one source record: its key carries the record's version and content."""
    version = event_version(record.get("modified_at") or "", record["data"])
    if record.get("deleted"):
        version += "#deleted"
    if record.get("tag"):
        version += f"#{record['tag']}"
    source_id = str(record["id"])
    return Event(system, obj, source_id, version, event_key(system, obj, source_id, version))
