"""Flow 4 — financial actuals: ERP invoices, revenue, cost and collections to analytics and
to the CRM account (docs/flows.md).

Analytics need nothing extra: the ERP's invoices, payments, cost actuals and revenue events are
captured into the golden store, whose history the analytics mirror and the forecast read.
What this route adds is the CRM account view, so account managers see the customer's financial
health where they plan expansion: after any actual for an account changes, the account's
totals (invoiced, collected, open receivables, recognised revenue, cost — per currency) are
recomputed from the golden store and written to the CRM account. Only that summary field is
written; every other account field belongs to the CRM or the ERP.

The summary goes to ``Description`` by default because the sandbox org has no dedicated fields;
an org with custom fields sets `ACCOUNT_FIELD` (e.g. ``Financial_Summary__c``).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pssync.engine.outbound import AppliedChange, Command, register_route
from pssync.engine.runtime import Runtime
from pssync.flows.common import payload, source_id, systems_with_role
from pssync.flows.triggers import ACTUALS

ACTUAL_TYPES = ("Invoice", "Payment", "RevenueEvent", "CostActual")
ACCOUNT_FIELD = "Description"
OPEN = frozenset({"open", "partially_paid", "overdue"})


def account_of(runtime: Runtime, entity_type: str, record: dict[str, Any]) -> str | None:
    """The account an actual belongs to (directly, via its invoice, or via its project)."""
    if record.get("account_id"):
        return str(record["account_id"])
    if entity_type == "Payment" and record.get("invoice_id"):
        invoice = payload(runtime, "Invoice", str(record["invoice_id"])) or {}
        return invoice.get("account_id")
    if record.get("project_id"):
        project = payload(runtime, "Project", str(record["project_id"])) or {}
        return project.get("account_id")
    return None


def account_totals(runtime: Runtime, account_id: str) -> dict[str, dict[str, Decimal]]:
    """Totals per measure and currency from the golden store's current records."""
    store = runtime.store
    projects = {
        v.record_id
        for v in store.iter_records("Project")
        if v.payload.get("account_id") == account_id
    }
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    invoices: dict[str, dict[str, Any]] = {}
    for v in store.iter_records("Invoice"):
        inv = v.payload
        if inv.get("account_id") == account_id or inv.get("project_id") in projects:
            invoices[v.record_id] = inv
            _add(totals["invoiced"], inv["amount"])
            if inv.get("status") in OPEN:
                _add(totals["open"], inv["amount"])
    for v in store.iter_records("Payment"):
        pay = v.payload
        if pay.get("invoice_id") in invoices:
            _add(totals["collected"], pay["amount"])
            if invoices[pay["invoice_id"]].get("status") in OPEN:
                _add(totals["open"], pay["amount"], -1)
    for entity_type, name in (("RevenueEvent", "recognised"), ("CostActual", "cost")):
        for v in store.iter_records(entity_type):
            if v.payload.get("project_id") in projects:
                _add(totals[name], v.payload["amount"])
    return {k: dict(v) for k, v in totals.items()}


def summary(totals: dict[str, dict[str, Decimal]]) -> str:
    parts = []
    for name in ("invoiced", "collected", "open", "recognised", "cost"):
        by_currency = totals.get(name) or {}
        text = ", ".join(f"{c} {a:,.2f}" for c, a in sorted(by_currency.items()))
        parts.append(f"{name} {text or '0'}")
    return "pssync actuals: " + "; ".join(parts)


@register_route(ACTUALS)
def financial_actuals(runtime: Runtime, change: AppliedChange) -> list[Command]:
    """An ERP actual changed -> the account's financial summary on the CRM account."""
    if change.entity_type not in ACTUAL_TYPES or runtime.role(change.system) != "erp":
        return []
    account_id = account_of(runtime, change.entity_type, change.payload)
    if account_id is None:
        return []
    text = summary(account_totals(runtime, account_id))
    commands = []
    for crm in systems_with_role(runtime, "crm"):
        crm_id = source_id(runtime, "Account", account_id, crm)
        if crm_id is not None:
            commands.append(
                Command(
                    ACTUALS,
                    crm,
                    "Account",
                    "Id",
                    crm_id,
                    "Account",
                    account_id,
                    {},
                    {ACCOUNT_FIELD: text},
                    fields=[],
                )
            )
    return commands


def _add(bucket: dict[str, Decimal], money: dict[str, Any] | None, sign: int = 1) -> None:
    if money:
        bucket[str(money["currency"])] += sign * Decimal(str(money["amount"]))
