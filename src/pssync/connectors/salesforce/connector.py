"""SalesforceConnector: CRM objects (or Certinia PSA objects) over the REST API.

Every call goes through simple-salesforce on the connector's own `SalesforceSession` (see
`transport`): reads are SOQL queries paged by the server's query locator (2,000 records a call),
writes are sObject Collections upserts by external ID (200 records a call, see `writes`),
deletes come from getDeleted, describe from ``/sobjects/{Type}/describe``.

Which fields a query selects comes from the mapping profile (`mapping.yaml`, or `certinia.yaml`
with ``profile: certinia``), intersected with the fields the org's describe lists, so an org
without multi-currency or without an integration's custom fields still reads. An object the
profile does not map is read with every field its describe lists.

An expired session (401 INVALID_SESSION_ID) is cured once by logging in again when the settings
hold credentials; a second 401, or a given session_id, raises AuthError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from simple_salesforce.api import Salesforce

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
from pssync.connectors.errors import AuthError
from pssync.connectors.salesforce import history, states
from pssync.connectors.salesforce.auth import Authenticator
from pssync.connectors.salesforce.bulk import BulkReader
from pssync.connectors.salesforce.cursor import ModstampCursor
from pssync.connectors.salesforce.deletes import DeleteGap, DeleteReader
from pssync.connectors.salesforce.describes import describe_all
from pssync.connectors.salesforce.history import DatedChange
from pssync.connectors.salesforce.profiles import fields_of, load_profile
from pssync.connectors.salesforce.settings import SalesforceSettings
from pssync.connectors.salesforce.soql import flatten, ident, select
from pssync.connectors.salesforce.transport import ApiMeter, SalesforceSession, translated
from pssync.connectors.salesforce.writes import Upsert
from pssync.mapping import MappingSpec
from pssync.mapping.convert import to_datetime

T = TypeVar("T")
STAMP = "SystemModstamp"
MIN_BATCH = 200  # the smallest query batch Salesforce honours
COMPOUND_TYPES = frozenset({"address", "location"})  # not selectable beside their parts


class SalesforceConnector(Connector):
    """Salesforce REST API (v59.0 by default) through simple-salesforce."""

    name = "salesforce"
    settings_model = SalesforceSettings
    objects = ("Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "User")
    write_batch_size = 200
    read_page_size = 2000

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        assert isinstance(settings, SalesforceSettings)  # checked by Connector.__init__
        self.config = settings
        self.meter = ApiMeter()
        self.session = SalesforceSession(
            self.meter, timeout=settings.timeout, verify=settings.ca_file or True
        )
        self.auth = Authenticator(settings, self.session)
        self.spec: MappingSpec = load_profile(settings.profile, settings.mapping)
        self._client: Salesforce | None = None
        self._describes: dict[str, dict[str, Any]] = {}
        self._described = False
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        self.delete_reader = DeleteReader(self.call, lambda: self.clock())
        self.bulk = BulkReader(
            self,
            tuple(dict.fromkeys([*self.objects, *self.spec.objects])),
            threshold=settings.bulk_threshold,
            page_records=settings.bulk_page_records,
            poll_seconds=settings.bulk_poll_seconds,
        )

    # ---- plumbing ----------------------------------------------------------------------

    def client(self) -> Salesforce:
        if self._client is None:
            login = self.auth.current()
            self._client = Salesforce(
                instance_url=login.instance_url,
                session_id=login.access_token,
                session=self.session,
                version=self.config.api_version,
            )
        return self._client

    def call(self, action: Callable[[Any], T]) -> T:
        """Run one API call; after a 401, log in again once if the credentials allow."""
        renewed = False
        while True:
            try:
                with translated(self.meter):
                    return action(self.client())
            except AuthError as exc:
                if exc.status != 401 or renewed or not self.renew():
                    raise
                renewed = True

    def renew(self) -> bool:
        """Log in again (False when the settings hold no credentials to do so)."""
        if not self.auth.can_renew:
            return False
        self.auth.login()
        self._client = None
        return True

    def query_pages(self, soql: str) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """(flattened rows, last page?) of a query, one API call per page."""
        options = {"Sforce-Query-Options": f"batchSize={max(MIN_BATCH, self.config.page_size)}"}
        result = self.call(lambda sf: sf.query(soql, headers=options))
        while True:
            done = bool(result.get("done", True))
            yield [flatten(r) for r in result.get("records", [])], done
            if done:
                return
            result = self.call(_next_page(str(result["nextRecordsUrl"])))

    def query_records(self, soql: str) -> list[dict[str, Any]]:
        return [row for rows, _ in self.query_pages(soql) for row in rows]

    def describe_raw(self, obj: str) -> dict[str, Any]:
        """The object's describe, fetched once per connector instance: the first asks for
        every object this connector reads in one Composite call (see `describes`)."""
        key = ident(obj).lower()
        if not self._described:
            self._described = True
            names = [*self.bulk.objects, obj]
            self._describes |= describe_all(self.call, self.config.api_version, names)
        if key not in self._describes:
            path = f"sobjects/{ident(obj)}/describe/"
            self._describes[key] = self.call(lambda sf: sf.restful(path))
        return self._describes[key]

    def readable(self, obj: str) -> set[str]:
        """Lower-cased field and parent-relationship names of `obj` (from its describe)."""
        described = self.describe_raw(obj)["fields"]
        names = {str(f["name"]).lower() for f in described}
        parents = {str(f.get("relationshipName") or "").lower() for f in described}
        return names | (parents - {""})

    def fields_for(self, obj: str) -> list[str]:
        """What to SELECT: the profile's fields for `obj` the org has, or all of them."""
        described = [f for f in self.describe_raw(obj)["fields"] if f["type"] not in COMPOUND_TYPES]
        names = {str(f["name"]).lower(): str(f["name"]) for f in described}
        omap = self.spec.objects.get(obj)
        if omap is None:
            return list(names.values())
        wanted = ["Id", STAMP, omap.id_field, omap.external_id_field, omap.modified_field]
        wanted += fields_of(omap)
        picked: dict[str, str] = {}
        for name in filter(None, wanted):
            root, _, rest = name.partition(".")
            if (root.lower() in names and not rest) or self._parent_has(root, rest, described):
                picked.setdefault(name.lower(), name)
        return list(picked.values())

    def _parent_has(self, relation: str, field: str, described: list[dict[str, Any]]) -> bool:
        """Whether `relation.field` can be selected: the relationship exists and the object it
        points to has the field (a single-currency org's Opportunity has no CurrencyIsoCode,
        so ``Opportunity.CurrencyIsoCode`` on a line item would fail the whole query)."""
        for f in described:
            if str(f.get("relationshipName") or "").lower() != relation.lower() or not field:
                continue
            targets = f.get("referenceTo") or []
            if len(targets) != 1 or "." in field:
                return True  # polymorphic or deeper: left to the org to answer, as before
            return field.split(".")[0].lower() in self.readable(str(targets[0]))
        return False

    def stamp_field(self, obj: str) -> str:
        omap = self.spec.objects.get(obj)
        return (omap.modified_field if omap and omap.modified_field else None) or STAMP

    def source(self, obj: str, row: dict[str, Any]) -> SourceRecord:
        stamp = row.get(self.stamp_field(obj))
        return SourceRecord(
            object=obj,
            id=str(row["Id"]),
            data=row,
            modified_at=to_datetime(stamp) if stamp else None,
            deleted=bool(row.get("IsDeleted", False)),
        )

    # ---- the contract ------------------------------------------------------------------

    def snapshot(self, obj: str) -> Iterator[Page]:
        """Every live record; a large object (``bulk_threshold``) through Bulk API 2.0."""
        if self.bulk.wanted(obj):
            for rows, done in self._bulk_pages(obj, select(obj, self.fields_for(obj))):
                yield Page([self.source(obj, r) for r in rows], cursor=None, done=done)
            return
        soql = select(obj, self.fields_for(obj), order_by=["Id"])
        for rows, done in self.query_pages(soql):
            yield Page([self.source(obj, r) for r in rows], cursor=None, done=done)

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Records changed since `cursor`, read from its high-water mark less the overlap
        (``read_overlap_seconds``) so that a transaction committing late is still read; the
        cursor drops what it handed out already (see `cursor`). The first read of a large
        object (no cursor, ``bulk_threshold``) goes through Bulk API 2.0; its pages carry no
        cursor until the last, so an interrupted initial load starts over."""
        overlap = dt.timedelta(seconds=self.config.read_overlap_seconds)
        position = ModstampCursor.decode(cursor, overlap)
        stamp_field = self.stamp_field(obj)
        fields = self.fields_for(obj)
        if cursor is None and self.bulk.wanted(obj):
            for rows, done in self._bulk_pages(obj, select(obj, fields)):
                records = [self.source(obj, r) for r in rows]
                for record in records:
                    if record.modified_at is not None:
                        position.take(record.modified_at, record.id)
                yield Page(records, cursor=position.encode() if done else None, done=done)
            return
        soql = select(obj, fields, where=position.where(stamp_field), order_by=[stamp_field, "Id"])
        for rows, done in self.query_pages(soql):
            fresh: list[SourceRecord] = []
            for row in rows:
                record = self.source(obj, row)
                if record.modified_at is None or not position.admits(record.modified_at, record.id):
                    continue
                position.take(record.modified_at, record.id)
                fresh.append(record)
            yield Page(fresh, cursor=position.encode() or cursor, done=done)

    def _bulk_pages(self, obj: str, soql: str) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """(rows, last page?) of a Bulk API 2.0 query, cut into pages of `page_size` records
        as a REST read would hand them to the engine (a results call holds up to
        `bulk_page_records`); an empty result is one empty page."""
        size = max(MIN_BATCH, self.config.page_size)
        previous: list[dict[str, Any]] | None = None
        for rows in self.bulk.rows(obj, soql):
            for start in range(0, len(rows), size):
                if previous is not None:
                    yield previous, False
                previous = rows[start : start + size]
        yield previous or [], True

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        """Deletions reported by getDeleted since `cursor` (the last latestDateCovered),
        inside the 15 days Salesforce serves (see `deletes`). A window may repeat a deletion
        at its edge; deleting twice is harmless, missing one is not. What is too old to read
        is in `delete_gaps` (and logged) for the reconciliation to find."""
        return self.delete_reader.read(obj, cursor)

    @property
    def delete_gaps(self) -> list[DeleteGap]:
        """Windows whose deletions getDeleted could not report (reconcile those objects)."""
        return self.delete_reader.gaps

    def opportunity_history(
        self, since: dt.datetime | None = None, *, source: str = "field_history"
    ) -> list[DatedChange]:
        """Each deal's stage, amount and close-date changes (and creations) since `since`,
        dated as Salesforce recorded them: from OpportunityFieldHistory, or with
        ``source="stage_history"`` from OpportunityHistory's snapshots (see `history`)."""
        if source == "stage_history":
            return history.read_snapshots(self.query_records, since)
        if source != "field_history":
            raise ValueError(f"source must be field_history or stage_history, not {source!r}")
        return history.read(self.query_records, since)

    def history(self, obj: str, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        """Earlier states of opportunities from OpportunityHistory (see `states`); Salesforce
        keeps no such history of the other objects read here."""
        if obj != "Opportunity" or not records:
            return []
        return states.earlier_states(self.query_records, records)

    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        upsert = Upsert(
            self,
            obj,
            external_id_field,
            reserve=self.config.api_reserve,
            detect=self.config.detect_unchanged,
            lock_retries=self.config.lock_retries,
            lock_wait=self.config.lock_retry_wait,
        )
        size = self.config.write_batch_size
        results: list[UpsertResult] = []
        for start in range(0, len(records), size):
            results += upsert.chunk(records[start : start + size])
        return results

    def describe(self, obj: str) -> ObjectDescription:
        fields = [
            FieldInfo(
                name=str(f["name"]),
                type=str(f["type"]),
                nullable=bool(f.get("nillable", True)),
                updateable=bool(f.get("updateable") or f.get("createable")),
                external_id=bool(f.get("externalId", False)),
                length=int(f["length"]) if f.get("length") else None,
            )
            for f in self.describe_raw(obj)["fields"]
        ]
        return ObjectDescription(object=obj, fields=fields)

    def close(self) -> None:
        self.session.close()


def _next_page(locator: str) -> Callable[[Any], Any]:
    return lambda sf: sf.query_more(locator, identifier_is_url=True)
