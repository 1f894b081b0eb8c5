"""What the legacy APAC ERP exchanges by file drop: CSV-ready rows of customers, projects and
invoices. Every value is a string, dates are day/month/year, as the legacy export writes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm import erp_common
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import at, cents_str
from pssync.sandbox.firm.world import InvoiceRec

SYSTEM = "filedrop"


def dmy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def invoice_row(firm: Firm, inv: InvoiceRec, paid: int, moment: dt.datetime) -> dict[str, Any]:
    p = firm.projects[inv.project]
    status = "PAID" if paid >= inv.gross_cents else ("PART" if paid else "OPEN")
    return {
        "invoice_no": firm.xrefs.issue(inv.id, "filedrop:invoices", inv.number),
        "customer_no": firm.xrefs.get(firm.accounts[inv.account].id, "filedrop:customers") or "",
        "project_no": firm.xrefs.get(p.id, "filedrop:projects") or "",
        "invoice_date": dmy(inv.issue),
        "due_date": dmy(inv.due),
        "net_amount": cents_str(inv.net_cents),
        "tax_amount": cents_str(inv.tax_cents),
        "currency": inv.currency,
        "status": status,
        "paid_amount": cents_str(paid),
        "updated_at": stamp(moment),
    }


def build(firm: Firm) -> None:
    for acc, since in erp_common.customers(firm, SYSTEM):
        firm.add_view(
            SYSTEM,
            "customers",
            acc.id,
            {
                "customer_no": firm.xrefs.issue(acc.id, "filedrop:customers"),
                "name": acc.legal_name,
                "country": firm.ref.legal_entities[acc.legal_entity].country,
                "currency": acc.currency,
                "payment_terms": acc.payment_terms.upper().replace(" ", ""),
                "tax_code": acc.tax_code,
                "crm_ref": firm.xrefs.get(acc.id, "salesforce:Account") or "",
                "updated_at": stamp(since),
            },
        )
    for p, created in erp_common.projects(firm, SYSTEM):
        contract = next(c for c in firm.books.contracts if c.project == p.idx)
        firm.add_view(
            SYSTEM,
            "projects",
            p.id,
            {
                "project_no": firm.xrefs.issue(p.id, "filedrop:projects"),
                "customer_no": firm.xrefs.get(firm.accounts[p.account].id, "filedrop:customers")
                or "",
                "name": p.name,
                "start_date": dmy(p.planned_start),
                "end_date": dmy(p.planned_end),
                "status": "CLOSED" if p.planned_end < firm.today else "OPEN",
                "contract_value": cents_str(contract.amount_cents),
                "currency": p.currency,
                "crm_ref": firm.xrefs.get(firm.opps[p.opp].id, "salesforce:Opportunity") or "",
                "updated_at": stamp(created),
            },
        )
    paid = erp_common.paid_state(firm)
    for inv in erp_common.invoices(firm, SYSTEM):
        cents, moment = paid.get(inv.idx, (0, at(inv.issue, 9)))
        firm.add_view(SYSTEM, "invoices", inv.id, invoice_row(firm, inv, cents, moment))
