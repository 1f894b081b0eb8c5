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

from pssync.engine.outbound import AppliedChange, Command, once, register_route
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


Totals = dict[str, dict[str, Decimal]]


def account_totals(runtime: Runtime, account_id: str) -> Totals:
    """Totals per measure and currency from the golden store's current records.

    Every account's totals come from one pass over the store's actuals, done once per routing
    pass (`routes.once`): a page of a thousand invoices used to read every project, invoice,
    payment, revenue event and cost actual a thousand times, which made the initial sync of a
    large ERP quadratic (minutes on one page of the medium firm's journal entries)."""
    every = once(("financial_actuals", runtime.store.url_text), lambda: all_totals(runtime))
    return {name: dict(by_currency) for name, by_currency in every.get(account_id, {}).items()}


def all_totals(runtime: Runtime) -> dict[str, Totals]:
    """`account_totals` of every account, by account ID. An invoice counts for the account it
    names and for the account of its project (both, when they differ); a payment for the
    accounts of its invoice; revenue and cost for the account of their project."""
    store = runtime.store
    project_account = {
        v.record_id: str(v.payload["account_id"])
        for v in store.iter_records("Project")
        if v.payload.get("account_id")
    }
    totals: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Decimal))
    )
    invoice_accounts: dict[str, tuple[set[str], dict[str, Any]]] = {}
    for v in store.iter_records("Invoice"):
        inv = v.payload
        accounts = {str(inv["account_id"])} if inv.get("account_id") else set()
        if inv.get("project_id") in project_account:
            accounts.add(project_account[inv["project_id"]])
        if accounts:
            invoice_accounts[v.record_id] = (accounts, inv)
        for account in accounts:
            _add(totals[account]["invoiced"], inv["amount"])
            if inv.get("status") in OPEN:
                _add(totals[account]["open"], inv["amount"])
    for v in store.iter_records("Payment"):
        pay = v.payload
        found = invoice_accounts.get(str(pay.get("invoice_id")))
        if found is None:
            continue
        accounts, inv = found
        for account in accounts:
            _add(totals[account]["collected"], pay["amount"])
            if inv.get("status") in OPEN:
                _add(totals[account]["open"], pay["amount"], -1)
    for entity_type, name in (("RevenueEvent", "recognised"), ("CostActual", "cost")):
        for v in store.iter_records(entity_type):
            owner = project_account.get(str(v.payload.get("project_id")))
            if owner is not None:
                _add(totals[owner][name], v.payload["amount"])
    return {account: {k: dict(v) for k, v in by.items()} for account, by in totals.items()}


def summary(totals: Totals) -> str:
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
