"""KantataConnector: workspaces, stories, users, allocations, time entries and invoices over the
Kantata OX (Mavenlink) API v1.

Reads page with ``page``/``per_page`` (200 a call, Kantata's maximum); incremental reads filter
with ``updated_after`` and use the cursor of `cursor`. Each record read carries its external ID
(under settings ``external_id_key``) from the custom-field index of `externals`, which costs one
more call per read, and dotted companions of nested values (``status.message``,
``workspace_ids.0``) for the mapping. Writes create or update record by record (see `writes`).

Deletes: Kantata's API has no deleted-objects feed (a deleted object simply stops being listed),
so `deletes` reports nothing and leaves its cursor as it was; the scheduled reconciliation
compares a snapshot with the golden store and finds hard deletes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pssync.connectors.base import (
    Connector,
    ConnectorSettings,
    Deletion,
    FieldInfo,
    ObjectDescription,
    Page,
    SourceRecord,
    UpsertResult,
)
from pssync.connectors.errors import PermanentError
from pssync.connectors.kantata.cursor import StampCursor, stamp_of
from pssync.connectors.kantata.externals import ExternalIds
from pssync.connectors.kantata.objects import OBJECTS, SERVER_FIELDS, KObject
from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kantata.transport import SYSTEM, Transport
from pssync.connectors.kantata.writes import Upsert
from pssync.connectors.stamp_cursor import fingerprint


class KantataConnector(Connector):
    """Kantata OX API v1 with a bearer token."""

    name = "kantata"
    settings_model = KantataSettings
    objects = tuple(OBJECTS)
    write_batch_size = 200
    read_page_size = 200

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        assert isinstance(settings, KantataSettings)  # checked by Connector.__init__
        self.config = settings
        self.transport = Transport(settings)
        self.external_ids = ExternalIds(self.transport, settings)

    def k_object(self, obj: str) -> KObject:
        try:
            return OBJECTS[obj]
        except KeyError:
            raise PermanentError(
                f"unknown object {obj!r}; supported: {', '.join(OBJECTS)}", system=SYSTEM
            ) from None

    def pages(self, obj: KObject, params: dict[str, Any]) -> Iterator[tuple[list[Any], bool]]:
        """(objects, last page?) of a list, one call per page, external IDs attached."""
        self.external_ids.refresh(obj.subject_type)
        page = 1
        while True:
            rows, last = self.transport.page(obj.key, params, page)
            for row in rows:
                row.update(flattened(row))
                row[self.config.external_id_key] = self.external_ids.external_id(
                    obj.subject_type, str(row["id"])
                )
            yield rows, last or not rows
            if last or not rows:
                return
            page += 1

    def record(self, obj: KObject, row: dict[str, Any]) -> SourceRecord:
        return SourceRecord(obj.key, str(row["id"]), row, stamp_of(row))

    # ---- reads -------------------------------------------------------------------------

    def snapshot(self, obj: str) -> Iterator[Page]:
        """Every record, in Kantata's ID order, `page_size` a call."""
        kobj = self.k_object(obj)
        for rows, last in self.pages(kobj, {}):
            yield Page([self.record(kobj, r) for r in rows], None, last)

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Records updated in or after the cursor's second that it has not delivered, in stamp
        order (the whole delta is read first: Kantata lists in ID order)."""
        kobj = self.k_object(obj)
        position = StampCursor.decode(cursor)
        since = position.updated_after()
        params = {"updated_after": since} if since else {}
        delta = [self.record(kobj, row) for rows, _ in self.pages(kobj, params) for row in rows]
        delta.sort(key=lambda r: (r.modified_at is None, r.modified_at, _id_key(r.id)))
        check = StampCursor.decode(cursor)
        fresh: list[tuple[SourceRecord, str]] = []
        for rec in delta:
            mark = fingerprint(rec.data)
            if rec.modified_at is not None and check.admits(rec.modified_at, rec.id, mark):
                check.advance(rec.modified_at, rec.id, mark)
                fresh.append((rec, mark))
        size = self.config.page_size
        for start in range(0, max(len(fresh), 1), size):
            chunk = fresh[start : start + size]
            for rec, mark in chunk:
                assert rec.modified_at is not None
                position.advance(rec.modified_at, rec.id, mark)
            done = start + size >= len(fresh)
            yield Page([rec for rec, _ in chunk], position.encode() or cursor, done)

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        """Nothing: no deleted-objects feed (see the module docstring)."""
        self.k_object(obj)
        return [], cursor

    # ---- writes and schema -------------------------------------------------------------

    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        return Upsert(self, self.k_object(obj), external_id_field).run(records)

    def describe(self, obj: str) -> ObjectDescription:
        """The fields of the first record Kantata lists (its API publishes no schema)."""
        kobj = self.k_object(obj)
        rows, _ = self.transport.page(kobj.key, {}, 1)
        sample = rows[0] if rows else {}
        fields = [
            FieldInfo(
                name=name,
                type=type(value).__name__ if value is not None else "unknown",
                updateable=kobj.writable and name not in SERVER_FIELDS,
            )
            for name, value in sample.items()
        ]
        fields.append(FieldInfo(self.config.external_id_key, "str", external_id=True))
        return ObjectDescription(obj, fields)

    def close(self) -> None:
        self.transport.close()


def flattened(row: dict[str, Any]) -> dict[str, Any]:
    """Dotted companions of nested values, which the mapping language reads by name (as the
    Salesforce connector hands out ``Product2.ProductCode``): ``status.message`` of a status
    object and ``workspace_ids.0``, the first (primary) entry of an ID list."""
    extra: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            extra.update({f"{name}.{k}": v for k, v in value.items() if not isinstance(v, dict)})
        elif isinstance(value, list) and value and not isinstance(value[0], dict | list):
            extra[f"{name}.0"] = value[0]
    return extra


def _id_key(record_id: str) -> tuple[int, int | str]:
    return (0, int(record_id)) if record_id.isdigit() else (1, record_id)
