"""Reading Kantata lists: snapshot in ID order, changes in stamp order, page by page.

Every list call asks for the object's fixed parameters (archived workspaces too), its
side-loaded associations and its external references (``include=``), so one call gives the
records, pssync's external IDs and the associated fields the mapping reads, with no index to
read first.

Changes are read with ``order=updated_at:asc`` ("Supply order with the name of a valid sort
field for the endpoint and a direction", Kantata's list reference) and handed out one page per
call: each page's cursor covers exactly the records up to it, so the engine stores progress page
by page and a failed read resumes after the last page it applied instead of starting over. The
read is keyset-paged: once a page moves the cursor to a later second, the next call starts again
at that second (``updated_after`` = second - 1 s, page 1) and drops what the cursor holds, so a
record edited while the read runs (it moves to the end of the order) cannot shift another one
past the page boundary unseen. Page numbers only count on while a whole page shares the
cursor's second (more than `page_size` records saved in one second), and a restart skips the
whole pages of that second already delivered, which lead its window. An endpoint that answers
``order=updated_at:asc`` with a 400 (not every list documents ``updated_at`` among its valid
orders) is read the old way, the whole delta first, for the rest of the connector's life.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from pssync.connectors.base import Page, SourceRecord
from pssync.connectors.errors import PermanentError
from pssync.connectors.kantata.cursor import StampCursor, stamp_of
from pssync.connectors.kantata.externals import ExternalIds
from pssync.connectors.kantata.objects import KObject
from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kantata.transport import Transport
from pssync.connectors.kit.cursor import fingerprint

ORDER = "updated_at:asc"
CUSTOM_FIELD_VALUES = "custom_field_values"
SECOND = dt.timedelta(seconds=1)


class Reader:
    """List reads of one connector: its transport, external IDs and settings, nothing else."""

    def __init__(self, transport: Transport, ids: ExternalIds, settings: KantataSettings) -> None:
        self.transport = transport
        self.ids = ids
        self.ext_key = settings.external_id_key
        self.page_size = settings.page_size
        self.unordered: set[str] = set()  # objects whose list refused order=updated_at

    def params(self, obj: KObject, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        include = [i.name for i in obj.includes]
        if obj.subject_type:
            include.append("external_references")
        if obj.custom_fields:
            include.append(CUSTOM_FIELD_VALUES)
        out: dict[str, Any] = {**obj.params, **(extra or {})}
        if include:
            out["include"] = ",".join(include)
        return out

    def page(
        self, obj: KObject, params: dict[str, Any], number: int
    ) -> tuple[list[SourceRecord], bool]:
        """One list page as source records (external ID and side-loaded fields attached)."""
        body, rows, last = self.transport.list_page(obj.key, params, number)
        records = []
        for row in rows:
            for inc in obj.includes:
                found = (body.get(inc.key) or {}).get(str(row.get(inc.id_field)))
                if isinstance(found, dict):
                    row[inc.name] = found
            if obj.custom_fields:
                row["custom_fields"] = custom_fields(row, body)
            row.update(flattened(row))
            if obj.subject_type:
                row[self.ext_key] = self.ids.external_id(obj.subject_type, row, body)
                row.update(self.ids.foreign(row, body))
            records.append(SourceRecord(obj.key, str(row["id"]), row, stamp_of(row)))
        return records, last or not rows

    def snapshot(self, obj: KObject) -> Iterator[Page]:
        """Every record, in Kantata's ID order, `page_size` a call."""
        params, number = self.params(obj), 1
        while True:
            records, last = self.page(obj, params, number)
            yield Page(records, None, last)
            if last:
                return
            number += 1

    def changes(self, obj: KObject, cursor: str | None) -> Iterator[Page]:
        """Records the cursor has not delivered, in stamp order, one page per call."""
        position = StampCursor.decode(cursor)
        if obj.key in self.unordered:
            yield from self.whole_delta(obj, cursor)
            return
        window, number, first = position.at, 1, True
        while True:
            extra: dict[str, Any] = {"order": ORDER}
            if window is not None:
                extra["updated_after"] = (window - SECOND).isoformat()
            try:
                records, last = self.page(obj, self.params(obj, extra), number)
            except PermanentError as exc:
                if exc.status != 400 or not first:
                    raise
                # An endpoint that does not sort by updated_at: read the delta whole instead.
                self.unordered.add(obj.key)
                yield from self.whole_delta(obj, cursor)
                return
            first = False
            yield Page(position.admit(records), position.encode() or cursor, last)
            if last:
                return
            if position.at != window:  # keyset: start again at the cursor's second, past the
                # whole pages of it already delivered (they come first in that window)
                window, number = position.at, 1 + len(position.known) // self.page_size
            else:
                number += 1

    def whole_delta(self, obj: KObject, cursor: str | None) -> Iterator[Page]:
        """The fallback for a list Kantata will not order by ``updated_at``: the whole delta
        (ID order) read first, then handed out in stamp order; a failure restarts it."""
        position = StampCursor.decode(cursor)
        since = position.at
        after = {} if since is None else {"updated_after": (since - SECOND).isoformat()}
        params = self.params(obj, after)
        delta: list[SourceRecord] = []
        number, last = 1, False
        while not last:
            records, last = self.page(obj, params, number)
            delta += records
            number += 1
        fresh = position.admit(delta)
        check = StampCursor.decode(cursor)
        for start in range(0, max(len(fresh), 1), self.page_size):
            chunk = fresh[start : start + self.page_size]
            for rec in chunk:
                assert rec.modified_at is not None
                check.advance(rec.modified_at, rec.id, fingerprint(rec.data))
            done = start + self.page_size >= len(fresh)
            yield Page(chunk, check.encode() or cursor, done)


def custom_fields(row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The record's side-loaded custom field values by field name (``custom_field_name``)."""
    loaded = body.get(CUSTOM_FIELD_VALUES) or {}
    out = {}
    for value_id in row.get("custom_field_value_ids") or []:
        found = loaded.get(str(value_id))
        if isinstance(found, dict) and found.get("custom_field_name"):
            out[str(found["custom_field_name"])] = found.get("value")
    return out


def flattened(row: dict[str, Any]) -> dict[str, Any]:
    """Dotted companions of nested values, which the mapping language reads by name (as the
    Salesforce connector hands out ``Product2.ProductCode``): ``status.message`` of a status
    object, ``resource.workspace_id`` of a side-loaded association and ``workspace_ids.0``, the
    first (primary) entry of an ID list."""
    extra: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            extra.update({f"{name}.{k}": v for k, v in value.items() if not isinstance(v, dict)})
        elif isinstance(value, list) and value and not isinstance(value[0], dict | list):
            extra[f"{name}.0"] = value[0]
    return extra
