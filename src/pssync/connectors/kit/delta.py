"""The OData delta-link cursor: changes and deletions since the last read, as the service says.

OData 4.0 change tracking ("OData Version 4.0 Part 1: Protocol", 11.3 "Requesting Changes";
"OData JSON Format Version 4.0", 14 "Delta Response"): a read sent with
``Prefer: odata.track-changes`` answers every matching entity, paged by ``@odata.nextLink``,
and its last page carries an ``@odata.deltaLink``, an opaque URL (Dataverse's holds a
``$deltatoken``). GET on that link later answers what changed since: changed or added entities
in full, and each deleted one as a *deleted entity*, ``{"@odata.context":
"...#<set>/$deletedEntity", "id": ..., "reason": "deleted"}`` in OData 4.0 JSON (the shape
Dataverse answers), or ``{"@removed": {"reason": ...}, "@id": ..., <key>}`` in 4.01; again
paged, with a fresh ``@odata.deltaLink`` on the last page. Dataverse documents it in "Use
change tracking to synchronize data with external systems",
https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems,
and "Track entity data changes with change tracking and the Web API",
https://learn.microsoft.com/training/modules/dataverse-web-api/change-tracking.

So the cursor is the delta link itself, ``{"v": 1, "delta": "<url>"}``: no clock, no overlap
window, deletions included. A first read (no cursor, or a stored cursor of another shape, such
as the stamp cursor a connector kept before) reads everything once with tracking asked for;
its pages carry no cursor until the last, so an interrupted first read starts over. A delta
read's pages carry the link they were read from until the last carries the new one, so an
interrupted delta read is read again whole (the engine drops what it already has).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pssync.connectors.errors import PermanentError

VERSION = 1
TRACK = "odata.track-changes"
GetJson = Callable[[str, dict[str, str] | None, dict[str, str]], dict[str, Any]]


@dataclass
class DeltaPage:
    """Entities changed (or, on a first read, all of them), IDs removed, and the cursor to
    store once the page is applied (None while a first read is under way)."""

    rows: list[dict[str, Any]]
    removed: list[str] = field(default_factory=list)
    cursor: str | None = None
    done: bool = False


def encode(link: str) -> str:
    return json.dumps({"v": VERSION, "delta": link})


def decode(cursor: str | None, system: str) -> str | None:
    """The delta link a cursor holds; None for no cursor or one of another shape."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
    except ValueError:
        raise PermanentError(f"unreadable delta cursor {cursor!r}", system=system) from None
    if not isinstance(data, dict) or "delta" not in data:
        return None  # e.g. a stamp cursor stored before: read once more with tracking
    if data.get("v") != VERSION or not isinstance(data["delta"], str):
        raise PermanentError(f"unsupported delta cursor {cursor!r}", system=system)
    return data["delta"]


def removed_id(entry: dict[str, Any], key: str) -> str | None:
    """The ID of a deleted-entity entry (4.0 ``$deletedEntity`` or 4.01 ``@removed``), or
    None when the entry is an entity. An entity-id such as ``accounts(<guid>)`` gives the
    key inside the parentheses."""
    context = str(entry.get("@odata.context") or "")
    if context.endswith("$deletedEntity"):
        found = entry.get("id")
    elif "@removed" in entry:
        found = entry.get(key) or entry.get("@id") or entry.get("@odata.id")
    else:
        return None
    text = str(found or "")
    if text.endswith(")") and "(" in text:
        text = text.rsplit("(", 1)[1][:-1].strip("'")
    return text or None


def read(
    get: GetJson,
    path: str,
    cursor: str | None,
    *,
    key: str,
    page_size: int,
    system: str,
    params: dict[str, str] | None = None,
) -> Iterator[DeltaPage]:
    """Pages of a first read of `path` with tracking asked for, or of the delta the cursor's
    link names. `get(url, params, headers)` is one GET answering the JSON body."""
    link = decode(cursor, system)
    prefer = {"Prefer": f"{TRACK},odata.maxpagesize={page_size}"}
    url, query = (link, None) if link else (path, params)
    while True:
        body = get(url, query, prefer)
        rows: list[dict[str, Any]] = []
        removed: list[str] = []
        for entry in body.get("value") or []:
            gone = removed_id(entry, key)
            if gone is not None:
                removed.append(gone)
            else:
                rows.append({k: v for k, v in entry.items() if "@" not in k})
        after, delta = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
        if after is None:
            if delta is None:
                raise PermanentError(
                    f"{path}: the last page carries no @odata.deltaLink; is change tracking "
                    "enabled for this table?",
                    system=system,
                )
            yield DeltaPage(rows, removed, encode(str(delta)), True)
            return
        yield DeltaPage(rows, removed, cursor if link else None, False)
        url, query = str(after), None
