"""The SAP objects pssync reads and writes, and how each one is found, keyed and change-stamped.

S/4HANA spreads them over three OData services and does not stamp them alike: projects, their
elements and billing documents carry ``LastChangeDateTime`` (Edm.DateTimeOffset), while business
partners only have ``LastChangeDate`` (a date) plus ``LastChangeTime`` (Edm.Time, seconds). The
incremental reads build their filters and orderings from these declarations.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

_TIME = re.compile(r"^PT(\d{1,2})H(\d{1,2})M(\d{1,2})(?:\.\d+)?S$")

ELEMENT = "A_EnterpriseProjectElement"
# The project definition is the root of its element hierarchy: ParentObjectUUID is the initial
# GUID (SAP KBA 3743470). Its element fields are the project's own, written through the project.
INITIAL_GUID = "00000000-0000-0000-0000-000000000000"
NOT_ROOT = f"ParentObjectUUID ne guid'{INITIAL_GUID}'"
ROOT_TO_PROJECT = {
    "ProjectElementDescription": "ProjectDescription",
    "PlannedStartDate": "ProjectStartDate",
    "PlannedEndDate": "ProjectEndDate",
    "ResponsibleCostCenter": "ResponsibleCostCenter",
    "ProfitCenter": "ProfitCenter",
}


def is_root(row: dict[str, Any]) -> bool:
    return str(row.get("ParentObjectUUID") or "").lower() == INITIAL_GUID


@dataclass(frozen=True)
class SapObject:
    """One entity set: its service, key, external-id property and change stamp."""

    name: str
    service: str
    key: str
    external_id: str | None
    stamp: tuple[str, ...]
    writable: bool = True
    # Values SAP requires on create that a canonical entity does not carry (the mapping
    # language only writes fields that come from the canonical payload).
    create_defaults: tuple[tuple[str, Any], ...] = ()
    # When the object is a slice of an entity set (journal items by kind): the set's name.
    set_name: str = ""
    # The change stamp is a date (Edm.DateTime shown as a date), e.g. a posting date.
    date_stamp: bool = False
    # Journal items: "revenue" or "cost" (which G/L accounts, and the amount's sign).
    posting_kind: str | None = None
    # When SAP keys the set by several properties: the record ID joins them with "/".
    id_fields: tuple[str, ...] = ()

    def record_id(self, row: dict[str, Any]) -> str:
        if self.id_fields:
            return "/".join(str(row.get(f) or "") for f in self.id_fields)
        return str(row[self.key])

    @property
    def entity_set_name(self) -> str:
        return self.set_name or self.name

    def order_by(self) -> str:
        """Stamp ascending, key as the tie-breaker, so the order is total and stable."""
        return ",".join(f"{name} asc" for name in (*self.stamp, self.key))

    def since(self, moment: dt.datetime) -> str:
        """`$filter` for records stamped at or after `moment` (inclusive: ties are resolved by
        the cursor's fingerprints, never by the server)."""
        moment = moment.astimezone(dt.UTC)
        if self.date_stamp:
            return f"{self.stamp[0]} ge datetime'{moment:%Y-%m-%d}T00:00:00'"
        if len(self.stamp) == 1:
            text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            return f"{self.stamp[0]} ge datetimeoffset'{text}'"
        day_field, time_field = self.stamp
        day = f"datetime'{moment:%Y-%m-%d}T00:00:00'"
        clock = f"time'PT{moment:%H}H{moment:%M}M{moment:%S}S'"
        return f"{day_field} gt {day} or ({day_field} eq {day} and {time_field} ge {clock})"

    def stamp_of(self, row: dict[str, Any]) -> dt.datetime | None:
        """The change stamp of a read row (plain values), None when the system has none."""
        if self.date_stamp:
            value = row.get(self.stamp[0])
            day = dt.date.fromisoformat(str(value)[:10]) if value else None
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) if day else None
        if len(self.stamp) == 1:
            value = row.get(self.stamp[0])
            return dt.datetime.fromisoformat(value) if value else None
        day, clock = row.get(self.stamp[0]), row.get(self.stamp[1])
        if not day:
            return None
        moment = dt.datetime.fromisoformat(day[:10]).replace(tzinfo=dt.UTC)
        match = _TIME.match(clock or "")
        if match:
            hours, minutes, seconds = (int(g) for g in match.groups())
            moment += dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)
        return moment


OBJECTS: dict[str, SapObject] = {
    o.name: o
    for o in (
        SapObject(
            "A_BusinessPartner",
            "API_BUSINESS_PARTNER",
            key="BusinessPartner",
            external_id="BusinessPartnerIDByExtSystem",
            stamp=("LastChangeDate", "LastChangeTime"),
            create_defaults=(("BusinessPartnerCategory", "2"),),  # customers are organisations
        ),
        SapObject(
            "A_EnterpriseProject",
            "API_ENTERPRISE_PROJECT_SRV",
            key="ProjectUUID",
            external_id="Project",
            stamp=("LastChangeDateTime",),
        ),
        SapObject(
            "A_EnterpriseProjectElement",
            "API_ENTERPRISE_PROJECT_SRV",
            key="ProjectElementUUID",
            external_id="ProjectElement",
            stamp=("LastChangeDateTime",),
        ),
        *(
            SapObject(
                f"A_JournalEntryItemBasic_{kind}",
                "API_JOURNALENTRYITEMBASIC_SRV",
                key="ID",
                external_id=None,
                stamp=("PostingDate",),
                writable=False,
                set_name="A_JournalEntryItemBasic",
                date_stamp=True,
                posting_kind=kind,
            )
            for kind in ("revenue", "cost")
        ),
        SapObject(
            "A_OperationalAcctgDocItemCube_payment",
            "API_OPLACCTGDOCITEMCUBE_SRV",
            key="AccountingDocument",
            external_id=None,
            stamp=("PostingDate",),
            writable=False,
            set_name="A_OperationalAcctgDocItemCube",
            date_stamp=True,
            posting_kind="payment",
            id_fields=("CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem"),
        ),
        SapObject(
            "A_SalesOrder",
            "API_SALES_ORDER_SRV",
            key="SalesOrder",
            external_id=None,
            stamp=("LastChangeDateTime",),
            writable=False,
        ),
        SapObject(  # read through its sales order (see billing_plans)
            "A_SalesOrderBillingPlan",
            "API_SALES_ORDER_SRV",
            key="BillingPlan",
            external_id=None,
            stamp=("LastChangeDateTime",),
            writable=False,
            id_fields=("SalesOrder", "BillingPlan"),
        ),
        SapObject(  # milestone dates only (see billing_plans)
            "A_SalesOrderBillingPlanItem",
            "API_SALES_ORDER_SRV",
            key="BillingPlanItem",
            external_id=None,
            stamp=("LastChangeDateTime",),
            writable=False,
            id_fields=("SalesOrder", "BillingPlan", "BillingPlanItem"),
        ),
        SapObject(  # read with its sales order only
            "A_SalesOrderItem",
            "API_SALES_ORDER_SRV",
            key="SalesOrderItem",
            external_id=None,
            stamp=(),
            writable=False,
        ),
        SapObject(
            "A_BillingDocument",
            "API_BILLING_DOCUMENT_SRV",
            key="BillingDocument",
            external_id=None,
            stamp=("LastChangeDateTime",),
            writable=False,
        ),
    )
}
