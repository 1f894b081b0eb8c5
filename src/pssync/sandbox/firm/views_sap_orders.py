"""The German entity's contracts as SAP holds them: sales orders with header billing plans.

A contract line is a sales order (API_SALES_ORDER_SRV, see `sandbox.sap_s4.sales_sets`) with one
service item on the project (``WBSElement``: the project definition's root element, whose ID is
the project's) and, for fixed fees and retainers, a periodic billing plan (type 02: one date a
month, billed at the end of its settlement month for a fixed fee, in arrears, or at its start
for a retainer, in advance) or, for milestones, a milestone billing plan (type 01: one date per
milestone, its value, and a customer-defined date description naming the milestone). Time and
materials has no billing plan: it is billed from the time booked (resource-related billing).
A date is billed (status C) once invoiced, else not yet processed (A). The firm's CRM
integration creates each order from its won deal, so the order names the deal as its external
document (``SenderBusinessSystemName``, ``ExternalDocumentID``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm import erp_common
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import cents_str, iso
from pssync.sandbox.firm.world import ContractLineRec

SYSTEM = "sap_s4"
CRM_SYSTEM = "SALESFORCE"  # the logical name of the sending system in the firm's landscape
ORDER_BASE = 3_000_000
PLAN_TYPE = {"fixed_fee": "02", "retainer": "02", "milestone": "01"}
# Customer-defined date descriptions (customizing) for the firm's milestone names.
DATE_DESCRIPTION = {
    "Mobilisation": "ZM01",
    "Design sign-off": "ZM02",
    "Build complete": "ZM03",
    "Go-live": "ZM04",
}


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def plan_items(firm: Firm, c: ContractLineRec, order: str, currency: str) -> list[dict[str, Any]]:
    """The billing plan's dates, as (canonical id or None, row)."""
    base = {"SalesOrder": order, "BillingPlan": order, "TransactionCurrency": currency}
    rows: list[dict[str, Any]] = []
    if c.method == "milestone":
        for n, m in enumerate(m for m in firm.books.milestones if m.contract == c.idx):
            item = f"{n + 1:06d}"
            firm.xrefs.issue(
                m.id, f"{SYSTEM}:A_SalesOrderBillingPlanItem", f"{order}/{order}/{item}"
            )
            rows.append(
                {
                    **base,
                    "_canonical": m.id,
                    "BillingPlanItem": item,
                    "BillingPlanDateCategory": "01",
                    "BillingPlanBillingDate": m.due.isoformat(),
                    "BillingPlanAmount": cents_str(m.amount_cents),
                    "BillingPlanDateDescriptionCode": DATE_DESCRIPTION.get(m.name, "ZM00"),
                    "BillingPlanRelatedBillgStatus": "C" if m.invoice is not None else "A",
                    "BillingPlanType": "01",
                    "BillingPlanBillingRule": "2",  # value to be billed
                }
            )
        return rows
    for n, (day, cents) in enumerate(c.schedule):
        if c.method == "fixed_fee":  # in arrears: billed at the end of the month it settles
            start, end = add_months(day, -1) + dt.timedelta(days=1), day
        else:  # in advance: billed at the start of the month it settles
            start, end = day, add_months(day, 1) - dt.timedelta(days=1)
        rows.append(
            {
                **base,
                "BillingPlanItem": f"{n + 1:06d}",
                "BillingPlanDateCategory": "02",
                "BillingPlanBillingDate": day.isoformat(),
                "BillingPlanAmount": cents_str(cents),
                "BillingPlanServiceStartDate": start.isoformat(),
                "BillingPlanServiceEndDate": end.isoformat(),
                "BillingPlanRelatedBillgStatus": "C" if day <= firm.today else "A",
                "BillingPlanType": "02",
                "BillingPlanBillingRule": "2",
            }
        )
    return rows


def build(firm: Firm) -> None:
    held = {p.idx: created for p, created in erp_common.projects(firm, SYSTEM)}
    for c in firm.books.contracts:
        if c.project not in held:
            continue
        p, created = firm.projects[c.project], held[c.project]
        acc = firm.accounts[p.account]
        order = firm.xrefs.issue(c.id, f"{SYSTEM}:A_SalesOrder", str(ORDER_BASE + c.idx + 1))
        firm.add_view(
            SYSTEM,
            "A_SalesOrder",
            c.id,
            {
                "SalesOrder": order,
                "SalesOrderType": "OR",
                "SalesOrganization": "1010",
                "DistributionChannel": "10",
                "OrganizationDivision": "00",
                "SoldToParty": firm.xrefs.get(acc.id, f"{SYSTEM}:A_BusinessPartner"),
                # The firm's CRM integration created the order from the won deal.
                "SenderBusinessSystemName": CRM_SYSTEM,
                "ExternalDocumentID": firm.xrefs.get(firm.opps[p.opp].id, "salesforce:Opportunity"),
                "SalesOrderDate": c.start.isoformat(),  # dated as the contract starts
                "PurchaseOrderByCustomer": f"{p.code} {c.method.replace('_', ' ')}"[:35],
                "RequestedDeliveryDate": c.end.isoformat(),
                "TotalNetAmount": cents_str(c.amount_cents),
                "TransactionCurrency": p.currency,
                "OverallSDProcessStatus": "B",
                "LastChangeDateTime": iso(created),
            },
        )
        firm.add_view(
            SYSTEM,
            "A_SalesOrderItem",
            None,
            {
                "SalesOrder": order,
                "SalesOrderItem": "000010",
                "SalesOrderItemCategory": "TAD",
                "SalesOrderItemText": f"{p.name} ({c.method.replace('_', ' ')})"[:40],
                "NetAmount": cents_str(c.amount_cents),
                "TransactionCurrency": p.currency,
                "WBSElement": firm.xrefs.get(p.id, f"{SYSTEM}:A_EnterpriseProject"),
            },
        )
        if c.method not in PLAN_TYPE:
            continue
        schedule_key = f"bs-{c.id[3:]}"
        firm.xrefs.issue(schedule_key, f"{SYSTEM}:A_SalesOrderBillingPlan", f"{order}/{order}")
        items = plan_items(firm, c, order, p.currency)
        firm.add_view(
            SYSTEM,
            "A_SalesOrderBillingPlan",
            schedule_key,
            {
                "SalesOrder": order,
                "BillingPlan": order,
                "BillingPlanStartDate": c.start.isoformat(),
                "BillingPlanStartDateRule": "01",
                "BillingPlanCategory": "A" if c.method == "milestone" else "B",
                "BillingPlanType": PLAN_TYPE[c.method],
                "BillingPlanEndDate": c.end.isoformat(),
                "BillingPlanEndDateRule": "09",
                "BillingPlanSearchTerm": p.code[:10],
            },
        )
        for row in items:
            canonical = row.pop("_canonical", None)
            firm.add_view(SYSTEM, "A_SalesOrderBillingPlanItem", canonical, row)
