"""SapS4Connector: partners, enterprise projects and elements, billing documents, postings.

Everything goes through pyodata over one `requests.Session` (basic auth, cookies, CSRF token),
one pyodata client per OData service, built on first use from the service's ``$metadata``.
Reads hand back plain JSON values in SAP's own property names; the mapping file next to this
module turns them into canonical entities.

Deletes: SAP's OData APIs have no "deleted since" feed (a deleted project or a partner marked for
archiving simply stops being returned), so `deletes` reports nothing and leaves its cursor as it
was; hard deletes are found by the scheduled reconciliation, which compares a snapshot with the
golden store.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyodata
from pyodata.v2.model import Config

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
from pssync.connectors.sap_s4 import billing_plans, postings
from pssync.connectors.sap_s4.handoff import SapHandoff
from pssync.connectors.sap_s4.objects import ELEMENT, NOT_ROOT, OBJECTS, SapObject
from pssync.connectors.sap_s4.settings import SapS4Settings
from pssync.connectors.sap_s4.transport import SYSTEM, CsrfToken, SapSession, translated
from pssync.connectors.sap_s4.values import fingerprint, to_plain
from pssync.connectors.sap_s4.writes import Upsert

# Added to read project rows: the BusinessPartner number behind their CustomerUUID, and the
# external document (the CRM deal) of the sales order the project delivers.
CUSTOMER_PARTNER = "CustomerBusinessPartner"
DEAL_DOCUMENT = "SalesOrderExternalDocumentID"
# Added to read partner rows: their customer's terms of payment (A_CustomerCompany).
PAYMENT_TERMS = "CustomerPaymentTerms"
# Rows without a change stamp sort before every stamped row; they count as stamped at the epoch.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class SapS4Connector(Connector):
    """SAP S/4HANA over OData v2 (API_BUSINESS_PARTNER, API_ENTERPRISE_PROJECT_SRV,
    API_BILLING_DOCUMENT_SRV, API_JOURNALENTRYITEMBASIC_SRV)."""

    name = "sap_s4"
    settings_model = SapS4Settings
    objects = tuple(name for name, o in OBJECTS.items() if o.stamp)  # items: read with orders
    write_batch_size = 100
    read_page_size = 1000

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        assert isinstance(settings, SapS4Settings)  # checked by Connector.__init__
        self.config = settings
        self.session = SapSession(settings.timeout)
        self.session.auth = (settings.username, settings.password.get_secret_value())
        self.session.verify = settings.verify
        if settings.sap_client:
            self.session.headers["sap-client"] = settings.sap_client
        self._clients: dict[str, Any] = {}
        self.csrf = CsrfToken(self.session, self.service_url("API_BUSINESS_PARTNER"))

    # ---- plumbing ----------------------------------------------------------------------

    def service_url(self, service: str) -> str:
        root = self.config.base_url.rstrip("/") + "/" + self.config.service_root.strip("/")
        return f"{root}/{service}/"

    def client(self, service: str) -> Any:
        """The pyodata client of one service (fetches ``$metadata`` once)."""
        if service not in self._clients:
            with translated():
                self._clients[service] = pyodata.Client(
                    self.service_url(service), self.session, config=Config(retain_null=True)
                )
        return self._clients[service]

    def sap_object(self, obj: str) -> SapObject:
        try:
            return OBJECTS[obj]
        except KeyError:
            raise PermanentError(
                f"unknown object {obj!r}; supported: {', '.join(OBJECTS)}", system=SYSTEM
            ) from None

    def entity_set(self, sap: SapObject) -> Any:
        return getattr(self.client(sap.service).entity_sets, sap.entity_set_name)

    def properties(self, sap: SapObject) -> list[Any]:
        schema = self.client(sap.service).schema
        return list(schema.entity_set(sap.entity_set_name).entity_type.proprties())

    def property_map(self, sap: SapObject) -> dict[str, Any]:
        return {p.name: p for p in self.properties(sap)}

    def navigations(self, sap: SapObject) -> list[str]:
        """Navigation properties of the type (what a deep insert may nest)."""
        schema = self.client(sap.service).schema
        return [n.name for n in schema.entity_set(sap.entity_set_name).entity_type.nav_proprties]

    def plain(self, sap: SapObject, entity: Any) -> dict[str, Any]:
        return {p.name: to_plain(p, getattr(entity, p.name)) for p in self.properties(sap)}

    def fetch(
        self,
        sap: SapObject,
        *,
        top: int,
        skip: int = 0,
        filter_: str | None = None,
        order_by: str | None = None,
        count: bool = False,
        etags: dict[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `top` rows as plain dicts (following ``__next`` when the server pages below
        `top`), and the total when `count` is asked; `etags` collects each row's ETag (its
        ``__metadata.etag``) by key, for the ``If-Match`` of a later update."""
        request = self.entity_set(sap).get_entities().top(top).skip(skip)
        request = request.order_by(order_by or f"{sap.key} asc")
        if filter_:
            request = request.filter(filter_)
        if count:
            request = request.count(inline=True)
        entities: list[Any] = []
        with translated():
            result = request.execute()
            total = result.total_count if count else None
            entities += list(result)
            while result.next_url and len(entities) < top:
                result = self.entity_set(sap).get_entities().next_url(result.next_url).execute()
                entities += list(result)
        rows = [self.plain(sap, e) for e in entities[:top]]
        if etags is not None:
            for entity, row in zip(entities, rows, strict=False):
                if entity.etag:
                    etags[str(row[sap.key])] = entity.etag
        if sap.name == "A_BusinessPartner":
            self.add_payment_terms(rows)
        elif sap.name == "A_EnterpriseProject":
            self.add_customer_partner(rows)
            deals = billing_plans.external_documents(self, [str(r["Project"]) for r in rows])
            for row in rows:
                row[DEAL_DOCUMENT] = deals.get(str(row["Project"]))
        elif sap.posting_kind is not None:
            postings.enrich(self, sap, rows)
        elif sap.name == "A_BillingDocument":
            postings.complete_billing(self, rows)
        elif sap.name in (billing_plans.ORDER, billing_plans.PLAN):
            billing_plans.enrich(self, sap, rows)
        return rows, total

    def read_keys(
        self, sap: SapObject, keys: list[str], etags: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The records with these keys as they are now, with their ETags."""
        prop = self.property_map(sap)[sap.key]
        rows: list[dict[str, Any]] = []
        chunk = self.config.lookup_chunk
        for start in range(0, len(keys), chunk):
            part = keys[start : start + chunk]
            if prop.typ.name == "Edm.Guid":
                clause = " or ".join(f"{sap.key} eq guid'{k}'" for k in part)
            else:
                clause = " or ".join(
                    f"{sap.key} eq '{k.replace(chr(39), chr(39) * 2)}'" for k in part
                )
            rows += self.fetch(sap, top=len(part) + 1, filter_=clause, etags=etags)[0]
        return rows

    def listed(self, sap: SapObject, filter_: str | None) -> str | None:
        """The filter of a read, narrowed to what the object is: elements without the
        project-definition root (it is the project itself, read as A_EnterpriseProject), journal
        items on the G/L accounts of their kind."""
        if sap.posting_kind is not None:  # journal items of this kind's G/L accounts
            clause = postings.accounts_clause(self, sap)
        elif sap.name == ELEMENT:
            clause = NOT_ROOT
        elif sap.name in billing_plans.KIND:
            clause = billing_plans.KIND[sap.name]
        else:
            return filter_
        return f"({filter_}) and {clause}" if filter_ else clause

    def partners_by_uuid(self, uuids: list[str]) -> dict[str, str]:
        """BusinessPartner number by BusinessPartnerUUID, a chunk of GUIDs per request."""
        partner = OBJECTS["A_BusinessPartner"]
        found: dict[str, str] = {}
        unique = sorted({u.lower() for u in uuids if u})
        chunk = self.config.lookup_chunk
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            clause = " or ".join(f"BusinessPartnerUUID eq guid'{u}'" for u in part)
            rows, _ = self.fetch(partner, top=len(part) * 2 + 1, filter_=clause)
            for row in rows:
                if row.get("BusinessPartnerUUID"):
                    found[str(row["BusinessPartnerUUID"]).lower()] = str(row["BusinessPartner"])
        return found

    def partner_uuid(self, business_partner: str) -> str | None:
        """The GUID of a business partner (what projects reference it by), None if unknown."""
        partner = OBJECTS["A_BusinessPartner"]
        value = business_partner.replace("'", "''")
        rows, _ = self.fetch(partner, top=1, filter_=f"BusinessPartner eq '{value}'")
        uuid = rows[0].get("BusinessPartnerUUID") if rows else None
        return str(uuid).lower() if uuid else None

    def add_customer_partner(self, rows: list[dict[str, Any]]) -> None:
        """Projects name their customer by the partner's GUID (``CustomerUUID``); everything
        else (xref, invoices' ``SoldToParty``) knows the partner by its number, so the number
        is added as ``CustomerBusinessPartner`` (None when the GUID names no partner)."""
        numbers = self.partners_by_uuid([str(r.get("CustomerUUID") or "") for r in rows])
        for row in rows:
            uuid = str(row.get("CustomerUUID") or "").lower()
            row[CUSTOMER_PARTNER] = numbers.get(uuid) if uuid else None

    def add_payment_terms(self, rows: list[dict[str, Any]]) -> None:
        """Add ``CustomerPaymentTerms``: the terms of payment of the partner's customer in
        its company code (``A_CustomerCompany``; the first company code when several)."""
        numbers = sorted({str(r["Customer"]) for r in rows if r.get("Customer")})
        terms: dict[str, str] = {}
        chunk = self.config.lookup_chunk
        companies = self.client("API_BUSINESS_PARTNER").entity_sets.A_CustomerCompany
        for start in range(0, len(numbers), chunk):
            part = numbers[start : start + chunk]
            clause = " or ".join("Customer eq '" + n.replace("'", "''") + "'" for n in part)
            request = companies.get_entities().select("Customer,CompanyCode,PaymentTerms")
            with translated():
                found = list(request.filter(clause).order_by("CompanyCode asc").execute())
            for row in found:
                terms.setdefault(str(row.Customer), str(row.PaymentTerms or ""))
        for row in rows:
            row[PAYMENT_TERMS] = terms.get(str(row.get("Customer") or "")) or None

    def record(self, sap: SapObject, row: dict[str, Any]) -> SourceRecord:
        return SourceRecord(sap.name, sap.record_id(row), row, sap.stamp_of(row))

    # ---- reads -------------------------------------------------------------------------

    def snapshot(self, obj: str) -> Iterator[Page]:
        """Every record, ordered by key, paged with ``$top``/``$skip`` and the inline count."""
        sap = self.sap_object(obj)
        offset, size = 0, self.config.page_size
        while True:
            rows, total = self.fetch(
                sap, top=size, skip=offset, filter_=self.listed(sap, None), count=True
            )
            offset += len(rows)
            done = not rows or offset >= (total or 0)
            yield Page([self.record(sap, r) for r in rows], None, done)
            if done:
                return

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Records stamped at or after the cursor's moment, oldest first.

        The cursor is the last stamp delivered plus a fingerprint of every record delivered at
        that stamp. The next read asks for stamps ``ge`` that moment, so a record written later
        in the same second (business partners are stamped to the second) is not missed, and
        skips those fingerprints, so nothing at the boundary is delivered twice; a record that
        changed again within that second has a new fingerprint and is delivered again.
        """
        sap = self.sap_object(obj)
        if sap.name in (billing_plans.PLAN, billing_plans.DATE):
            yield from billing_plans.changes(self, sap, cursor)
            return
        at, seen = decode_cursor(cursor)
        size = self.config.page_size
        while True:
            top = size + len(seen)
            since = self.listed(sap, sap.since(at) if at is not None else None)
            rows = self.fetch(sap, top=top, filter_=since, order_by=sap.order_by())[0]
            fresh: list[SourceRecord] = []
            consumed = 0
            for row in rows:
                if len(fresh) == size:
                    break
                consumed += 1
                rec = self.record(sap, row)
                stamp, mark = rec.modified_at or EPOCH, fingerprint(row)
                if stamp == at and seen.get(rec.id) == mark:
                    continue
                if stamp != at:
                    at, seen = stamp, {}
                seen[rec.id] = mark
                fresh.append(rec)
            done = len(rows) < top and consumed == len(rows)
            yield Page(fresh, encode_cursor(at, seen), done)
            if done:
                return

    def history(self, obj: str, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        """A billing document cleared (in part or whole) since it was issued was not cleared
        before: that state, at its billing date (its change stamp is its last clearing)."""
        if obj != "A_BillingDocument":
            return []
        out = []
        for record in records:
            day = record.data.get("BillingDocumentDate")
            if record.data.get("InvoiceClearingStatus") in (None, "A") or not day:
                continue
            issued = dt.datetime.fromisoformat(str(day)[:10]).replace(tzinfo=dt.UTC)
            data = {**record.data, "InvoiceClearingStatus": "A"}
            out.append(SourceRecord(record.object, record.id, data, issued))
        return out

    def deletes(self, obj: str, cursor: str | None) -> tuple[list[Deletion], str | None]:
        """Nothing: SAP exposes no deleted-records feed; reconciliation finds hard deletes."""
        self.sap_object(obj)
        return [], cursor

    # ---- writes and schema -------------------------------------------------------------

    def upsert(
        self, obj: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        """Create or update by external ID (see `writes.Upsert`); one result per record."""
        return Upsert(self, self.sap_object(obj), external_id_field).run(records)

    def handoff(self, company_code: str, vendor_value: Callable[[str, Any], Any]) -> SapHandoff:
        """The closed-won handoff's request bodies for this SAP system (see `handoff`)."""
        return SapHandoff(self, company_code, vendor_value)

    def describe(self, obj: str) -> ObjectDescription:
        """Properties and their `sap:` flags from the service's ``$metadata``."""
        sap = self.sap_object(obj)
        fields = [
            FieldInfo(
                name=p.name,
                type=p.typ.name,
                nullable=bool(p.nullable),
                updateable=bool(sap.writable and p.updatable),
                external_id=p.name == sap.external_id,
                length=p.max_length or None,
            )
            for p in self.properties(sap)
        ]
        return ObjectDescription(obj, fields)

    def close(self) -> None:
        self.session.close()
        self._clients.clear()


def encode_cursor(at: dt.datetime | None, seen: dict[str, str]) -> str | None:
    if at is None:
        return None
    return json.dumps({"at": at.isoformat(), "seen": seen}, separators=(",", ":"))


def decode_cursor(cursor: str | None) -> tuple[dt.datetime | None, dict[str, str]]:
    if not cursor:
        return None, {}
    try:
        data = json.loads(cursor)
        at = dt.datetime.fromisoformat(data["at"])
        seen = {str(k): str(v) for k, v in data.get("seen", {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PermanentError(
            f"not an sap_s4 change cursor: {cursor[:80]!r}", system=SYSTEM
        ) from exc
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)), seen
