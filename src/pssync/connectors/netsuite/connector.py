"""NetSuiteConnector: customers, projects, tasks, time, contracts (sales orders, billing
schedules, milestones), invoices, payments and journals over SuiteTalk REST.

Reads are SuiteQL (``POST /services/rest/query/v1/suiteql`` with ``Prefer: transient``), 1,000
rows a call, so a read costs one call per 1,000 records (plus, per page, one call per related
table, e.g. a journal's lines and accounting lines: see `related`).
Snapshots page by a keyset on the internal ID; incremental reads by ``lastmodifieddate`` with the
boundary-safe cursor of `cursor`. Writes are record API upserts by external ID (see `writes`).

Deletes: NetSuite keeps a ``DeletedRecord`` table for saved searches and SuiteQL in some accounts,
but the REST record API offers no deleted-record feed and the sandbox emulator has neither, so
`deletes` reports nothing and leaves its cursor as it was; the scheduled reconciliation compares
a snapshot with the golden store and finds hard deletes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
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
from pssync.connectors.netsuite.auth import SYSTEM
from pssync.connectors.netsuite.cursor import ORDER, StampCursor, after_key
from pssync.connectors.netsuite.handoff import NetSuiteHandoff
from pssync.connectors.netsuite.objects import (
    OBJECTS,
    NsObject,
    id_sort_key,
    plain_row,
    select_list,
    stamp_of,
)
from pssync.connectors.netsuite.related import (
    SKIP,
    Related,
    before_completion,
    state_stamp,
)
from pssync.connectors.netsuite.settings import NetSuiteSettings
from pssync.connectors.netsuite.transport import Transport
from pssync.connectors.netsuite.writes import Upsert
from pssync.connectors.stamp_cursor import fingerprint


class NetSuiteConnector(Connector):
    """NetSuite SuiteTalk REST (SuiteQL + record API), signed with TBA or OAuth 2.0."""

    name = "netsuite"
    settings_model = NetSuiteSettings
    objects = tuple(OBJECTS)
    write_batch_size = 200
    read_page_size = 1000

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        assert isinstance(settings, NetSuiteSettings)  # checked by Connector.__init__
        self.config = settings
        self.transport = Transport(settings)

    # ---- plumbing ----------------------------------------------------------------------

    def ns_object(self, obj: str) -> NsObject:
        try:
            return OBJECTS[obj]
        except KeyError:
            raise PermanentError(
                f"unknown object {obj!r}; supported: {', '.join(OBJECTS)}", system=SYSTEM
            ) from None

    def where_of(self, ns: NsObject) -> str | None:
        return ns.where.format(kind_field=self.config.journal_kind_field) if ns.where else None

    def columns(self, ns: NsObject) -> str:
        """The explicit select list of `ns` (dates through TO_CHAR; never ``*``)."""
        extra = (self.config.journal_kind_field,) if ns.journal else ()
        return select_list(ns, extra)

    def select(self, ns: NsObject, condition: str | None, order: str) -> str:
        parts = [c for c in (self.where_of(ns), condition) if c]
        where = f" WHERE {' AND '.join(parts)}" if parts else ""
        return f"SELECT {self.columns(ns)} FROM {ns.table}{where} ORDER BY {order}"

    def plain(self, ns: NsObject, row: dict[str, Any]) -> dict[str, Any]:
        return plain_row(ns, row, self.config.currency_codes, self.config.tz)

    def page(self, query: str) -> tuple[list[dict[str, Any]], bool]:
        """(rows, last page?) of the first page of `query`: one call."""
        body = self.transport.suiteql(query, limit=self.config.page_size)
        return list(body.get("items") or []), not body.get("hasMore")

    def records(self, ns: NsObject, rows: list[dict[str, Any]]) -> list[SourceRecord]:
        plain = [self.plain(ns, row) for row in rows]
        self.add_related(ns, plain)
        return [
            SourceRecord(ns.name, str(d["id"]), d, state_stamp(d)) for d in plain if not d.get(SKIP)
        ]

    def query_all(self, query: str) -> list[dict[str, Any]]:
        """Every row of `query`, 1,000 a call, following ``offset`` until ``hasMore`` is false."""
        rows: list[dict[str, Any]] = []
        while True:
            body = self.transport.suiteql(query, limit=self.config.page_size, offset=len(rows))
            items = list(body.get("items") or [])
            rows += items
            if not body.get("hasMore") or not items:
                return rows

    def add_related(self, ns: NsObject, records: list[dict[str, Any]]) -> None:
        """Complete a page of `ns` records from the other tables they span (see `related`)."""
        if ns.related and records:
            config = self.config
            related = Related(self.query_all, config.accounting_book, config.currency_codes)
            related.add(ns.related, records)

    # ---- reads -------------------------------------------------------------------------

    def snapshot(self, obj: str) -> Iterator[Page]:
        """Every record, by internal ID, 1,000 a call (keyset: ``id > last``)."""
        ns = self.ns_object(obj)
        last: str | None = None
        while True:
            condition = None if last is None else f"id > {id_sort_key(last)}"
            rows, done = self.page(self.select(ns, condition, "id"))
            records = self.records(ns, rows)
            if rows:
                last = str(rows[-1]["id"])
            yield Page(records, None, done or not rows)
            if done or not rows:
                return

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Records saved at or after the cursor's second that it has not delivered, oldest
        first; pages follow a (second, id) keyset, the cursor is described in `cursor`."""
        ns = self.ns_object(obj)
        position = StampCursor.decode(cursor)
        condition = position.where(self.config.tz)
        while True:
            asked = condition
            rows, done = self.page(self.select(ns, condition, ORDER))
            fresh: list[SourceRecord] = []
            for row in rows:
                data = self.plain(ns, row)
                at, record_id = stamp_of(data), str(data["id"])
                if at is None:
                    continue
                condition = after_key(at, record_id, self.config.tz)
                mark = fingerprint(data)
                if position.admits(at, record_id, mark):
                    position.advance(at, record_id, mark)
                    fresh.append(SourceRecord(ns.name, record_id, data, at))
            self.add_related(ns, [r.data for r in fresh])
            fresh = [
                replace(r, modified_at=state_stamp(r.data)) for r in fresh if not r.data.get(SKIP)
            ]
            done = done or not rows or condition == asked  # no stamped row: no way forward
            yield Page(fresh, position.encode() or cursor, done)
            if done:
                return

    def history(self, obj: str, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        """A billing milestone completed since its task was last saved was not completed
        before: that state, at the task's own stamp. (NetSuite's system notes hold the other
        objects' field changes; this connector does not read them yet.)"""
        if obj != "projecttask_milestone":
            return []
        out = []
        for record in records:
            state, own = before_completion(record.data), stamp_of(record.data)
            if state is not None and own is not None:
                out.append(SourceRecord(record.object, record.id, state, own))
        return out

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        """Nothing: no deleted-record feed over REST (see the module docstring)."""
        self.ns_object(obj)
        return [], cursor

    # ---- writes and schema -------------------------------------------------------------

    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        """Create or update by external ID (see `writes.Upsert`); one result per record."""
        return Upsert(self, self.ns_object(obj), external_id_field).run(records)

    def handoff(self, subsidiary: str, vendor_value: Callable[[str, Any], Any]) -> NetSuiteHandoff:
        """The closed-won handoff's request bodies for this NetSuite account (see `handoff`)."""
        return NetSuiteHandoff(subsidiary, vendor_value)

    def describe(self, obj: str) -> ObjectDescription:
        """The connector's field catalogue for `obj` (the sandbox has no metadata catalog;
        ``/record/v1/metadata-catalog`` is where a later version would read it)."""
        ns = self.ns_object(obj)
        server = {"id", "lastModifiedDate", "dateCreated", "createdDate"}
        fields = [
            FieldInfo(
                name=name,
                type=kind,
                nullable=name not in ("id", "lastModifiedDate"),
                updateable=ns.writable and name not in server and name not in ns.computed,
                external_id=name == "externalId",
            )
            for name, kind in ns.fields.items()
        ]
        return ObjectDescription(obj, fields)

    def close(self) -> None:
        self.transport.close()
