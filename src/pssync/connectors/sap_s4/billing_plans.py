"""Contracts as S/4HANA holds them: sales orders and their header billing plans
(API_SALES_ORDER_SRV, SAP Business Accelerator Hub,
https://api.sap.com/api/API_SALES_ORDER_SRV/overview), read-only.

* ``A_SalesOrder`` becomes a ContractLine. Read with it: its service item (``A_SalesOrderItem``:
  the text, and ``WBSElement``, the project's root element, whose ID is the project's, turned
  into ``ProjectUUID`` as projects are known to the ID map) and its header billing plan
  (``A_SalesOrderBillingPlan``: its type; ``ContractStart``/``ContractEnd`` from its start and
  end; ``BillingInArrears`` when the first date is billed after its settlement period starts).
  An order without a billing plan is billed from time (resource-related billing); its term is
  then its document date to its requested delivery date.
* ``A_SalesOrderBillingPlan`` of periodic plans (``BillingPlanType eq '02'``) becomes a
  BillingSchedule, with ``BillingFrequency`` (monthly or quarterly from the settlement period
  of its first date), its first date's value (``FirstBillingAmount``) and its first and last
  billing dates (``FirstBillingDate``, ``LastBillingDate``). A milestone plan (type 01) is no
  schedule: its dates are the milestones.
* ``A_SalesOrderBillingPlanItem`` of milestone plans (``BillingPlanType eq '01'``) becomes a
  BillingMilestone.
* An order created from another system's document names it (``SenderBusinessSystemName``,
  ``ExternalDocumentID``): a CRM integration keeps the won opportunity there. Projects are read
  with it (``SalesOrderExternalDocumentID``, `external_documents`): the deal they deliver.

Billing plans carry no change stamp: a change to one is a change of its sales order (whose
``LastChangeDateTime`` moves), so they are read through the orders changed since the cursor,
each plan and date stamped with its order's ``LastChangeDateTime``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol

from pssync.connectors.base import Page, SourceRecord
from pssync.connectors.sap_s4.objects import OBJECTS, SapObject
from pssync.connectors.sap_s4.service import SapService
from pssync.connectors.sap_s4.transport import translated


class Reader(SapService, Protocol):
    """The SAP services, plus the connector's change pages and records (a protocol, so this
    module needs no import of the connector)."""

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]: ...

    def record(self, sap: SapObject, row: dict[str, Any]) -> SourceRecord: ...


ORDER, PLAN, DATE = "A_SalesOrder", "A_SalesOrderBillingPlan", "A_SalesOrderBillingPlanItem"
MILESTONE_PLAN, PERIODIC_PLAN = "01", "02"
MILESTONES = f"BillingPlanType eq '{MILESTONE_PLAN}'"
PERIODIC = f"BillingPlanType eq '{PERIODIC_PLAN}'"
KIND = {PLAN: PERIODIC, DATE: MILESTONES}  # what the objects read of their entity sets
STAMP = "LastChangeDateTime"


def children(
    connector: Reader, obj: str, orders: list[str], kind: str | None = None
) -> list[dict[str, Any]]:
    """Rows of `obj` belonging to these sales orders (and matching `kind`), a chunk of orders
    per request."""
    sap, rows = OBJECTS[obj], []
    chunk = connector.config.lookup_chunk
    for start in range(0, len(orders), chunk):
        part = orders[start : start + chunk]
        clause = " or ".join("SalesOrder eq '" + o.replace("'", "''") + "'" for o in part)
        clause = f"({clause}) and {kind}" if kind else clause
        rows += connector.fetch(sap, top=10_000, filter_=clause)[0]
    return rows


def project_guids(connector: Reader, projects: list[str]) -> dict[str, str]:
    """ProjectUUID by Project ID (the WBS element a sales order item names is the project
    definition's root element, whose ID is the project's)."""
    sap, found = OBJECTS["A_EnterpriseProject"], {}
    unique = sorted({p for p in projects if p})
    chunk = connector.config.lookup_chunk
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        clause = " or ".join("Project eq '" + v.replace("'", "''") + "'" for v in part)
        rows = connector.fetch(sap, top=len(part) * 2 + 1, filter_=clause)[0]
        found.update({str(r["Project"]): str(r["ProjectUUID"]) for r in rows})
    return found


def _quoted(name: str, values: list[str]) -> str:
    return " or ".join(f"{name} eq '" + v.replace("'", "''") + "'" for v in values)


def external_documents(connector: SapService, projects: list[str]) -> dict[str, str]:
    """The external document (a CRM deal's ID) of the sales order each project delivers, by
    Project ID: the order whose item names the project's root WBS element. A project with
    orders from several documents gets none (no certain deal)."""
    unique, chunk = sorted({p for p in projects if p}), connector.config.lookup_chunk
    order_of: dict[str, set[str]] = {}
    for start in range(0, len(unique), chunk):
        clause = _quoted("WBSElement", unique[start : start + chunk])
        for item in connector.fetch(OBJECTS["A_SalesOrderItem"], top=10_000, filter_=clause)[0]:
            order_of.setdefault(str(item["SalesOrder"]), set()).add(str(item["WBSElement"]))
    found: dict[str, set[str]] = {}
    orders = sorted(order_of)
    for start in range(0, len(orders), chunk):
        part = orders[start : start + chunk]
        request = connector.entity_set(OBJECTS[ORDER]).get_entities()
        request = request.select("SalesOrder,ExternalDocumentID").filter(
            _quoted("SalesOrder", part)
        )
        with translated():
            rows = list(request.top(len(part) + 1).execute())
        for row in rows:
            for project in order_of.get(str(row.SalesOrder), ()):
                found.setdefault(project, set()).add(str(row.ExternalDocumentID or ""))
    return {p: docs.pop() for p, docs in found.items() if len(docs) == 1 and "" not in docs}


def dates_by_order(connector: Reader, orders: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every date of the orders' billing plans, in item order, by order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for row in children(connector, DATE, orders):
        found.setdefault(str(row["SalesOrder"]), []).append(row)
    for rows in found.values():
        rows.sort(key=lambda r: str(r["BillingPlanItem"]))
    return found


def frequency(plan_type: str | None, first: dict[str, Any] | None) -> str | None:
    if plan_type == MILESTONE_PLAN:
        return "milestone"
    date = first or {}
    start, end = date.get("BillingPlanServiceStartDate"), date.get("BillingPlanServiceEndDate")
    if not start or not end:
        return None
    days = (dt.date.fromisoformat(str(end)[:10]) - dt.date.fromisoformat(str(start)[:10])).days
    return "monthly" if days < 32 else "quarterly" if days < 93 else None


def enrich(connector: Reader, sap: SapObject, rows: list[dict[str, Any]]) -> None:
    """Add what the mapping reads besides the row's own properties (see the docstring)."""
    orders = sorted({str(r["SalesOrder"]) for r in rows})
    if not orders:
        return
    dates = dates_by_order(connector, orders)
    if sap.name == PLAN:
        for row in rows:
            mine = dates.get(str(row["SalesOrder"])) or [{}]
            first, last = mine[0], mine[-1]
            row["BillingFrequency"] = frequency(row.get("BillingPlanType"), first)
            row["FirstBillingAmount"] = first.get("BillingPlanAmount")
            row["TransactionCurrency"] = first.get("TransactionCurrency")
            row["FirstBillingDate"] = first.get("BillingPlanBillingDate")
            row["LastBillingDate"] = last.get("BillingPlanBillingDate")
        return
    lines = reversed(children(connector, "A_SalesOrderItem", orders))  # the first item wins
    items = {str(i["SalesOrder"]): i for i in lines}
    plans = {str(p["SalesOrder"]): p for p in children(connector, PLAN, orders)}
    guids = project_guids(connector, [str(i.get("WBSElement") or "") for i in items.values()])
    for row in rows:
        order = str(row["SalesOrder"])
        item, plan = items.get(order, {}), plans.get(order, {})
        first = (dates.get(order) or [{}])[0]
        row["SalesOrderItemText"] = item.get("SalesOrderItemText")
        row["ProjectUUID"] = guids.get(str(item.get("WBSElement") or ""))
        row["BillingPlanType"] = plan.get("BillingPlanType")
        # The contract's term: its billing plan's; without one, order date to delivery date.
        row["ContractStart"] = plan.get("BillingPlanStartDate") or row.get("SalesOrderDate")
        row["ContractEnd"] = plan.get("BillingPlanEndDate") or row.get("RequestedDeliveryDate")
        billed = first.get("BillingPlanBillingDate")
        settles = first.get("BillingPlanServiceStartDate")
        row["BillingInArrears"] = bool(billed and settles and str(billed) > str(settles))


def changes(connector: Reader, sap: SapObject, cursor: str | None) -> Iterator[Page]:
    """Plans (or milestone dates) of the sales orders changed since `cursor` (the orders'
    cursor), each stamped with its order's change stamp."""
    for page in connector.changes(ORDER, cursor):
        stamps = {r.id: r.data.get(STAMP) for r in page.records}
        rows = children(connector, sap.name, sorted(stamps), KIND[sap.name]) if stamps else []
        for row in rows:
            row[STAMP] = stamps.get(str(row["SalesOrder"]))
        yield Page([connector.record(sap, r) for r in rows], page.cursor, page.done)
