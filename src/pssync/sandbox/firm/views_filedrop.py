"""What the legacy APAC ERP exchanges by file drop: CSV-ready rows of customers, projects and
invoices, and the books it keeps itself and only exports: contracts (one per project), their
billing schedules (instalment plans) and milestones, the payments it collected and its general
ledger journal (the lines of the projects' revenue recognition and labour costs). Every value
is a string, dates are day/month/year, as the legacy export writes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm import erp_common
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import at, cents_str
from pssync.sandbox.firm.world import ContractLineRec, InvoiceRec, PaymentRec, PostingRec

SYSTEM = "filedrop"
BILLING_METHOD = {
    "time_and_materials": "TM",
    "fixed_fee": "FIXED",
    "milestone": "MILESTONE",
    "retainer": "RETAINER",
}


# The ledger's chart of accounts: (debit, credit) accounts of each kind of posting. Revenue
# recognition debits unbilled revenue and credits services revenue; labour cost debits cost of
# services and credits accrued wages. Lines on the P&L accounts carry the project.
ACCOUNTS = {"revenue": ("1250", "4000"), "cost": ("5000", "2150")}
P_AND_L = {"4000", "5000"}
NARRATION = {"revenue": "Revenue recognised", "cost": "Labour cost"}


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
        "created_at": stamp(at(inv.issue, 9)),
        "updated_at": stamp(moment),
    }


def contract_rows(
    firm: Firm, c: ContractLineRec, created: dt.datetime
) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, canonical id, row) of one contract: the contract, its instalment plan (fixed fee
    and retainer) and its milestones."""
    p = firm.projects[c.project]
    contract_no = firm.xrefs.issue(c.id, "filedrop:contracts", f"CT{c.idx + 1:06d}")
    out: list[tuple[str, str, dict[str, Any]]] = [
        (
            "contracts",
            c.id,
            {
                "contract_no": contract_no,
                "project_no": firm.xrefs.get(p.id, "filedrop:projects") or "",
                "customer_no": firm.xrefs.get(firm.accounts[p.account].id, "filedrop:customers")
                or "",
                "description": f"{p.name} ({c.method.replace('_', ' ')})",
                "billing_method": BILLING_METHOD[c.method],
                "service_line": p.service_line,
                "contract_value": cents_str(c.amount_cents),
                "currency": p.currency,
                "start_date": dmy(c.start),
                "end_date": dmy(c.end),
                "status": "ACTIVE",
                "updated_at": stamp(created),
            },
        )
    ]
    if c.schedule:
        key = f"bs-{c.id[3:]}"
        out.append(
            (
                "billing_schedules",
                key,
                {
                    "schedule_no": firm.xrefs.issue(
                        key, "filedrop:billing_schedules", f"BS{c.idx + 1:06d}"
                    ),
                    "contract_no": contract_no,
                    "frequency": "MONTHLY",
                    "in_advance": "Y" if c.method == "retainer" else "N",
                    "instalments": str(len(c.schedule)),
                    "first_bill_date": dmy(c.schedule[0][0]),
                    "last_bill_date": dmy(c.schedule[-1][0]),
                    "instalment_amount": cents_str(c.schedule[0][1]),
                    "currency": p.currency,
                    "updated_at": stamp(created),
                },
            )
        )
    for k, m in enumerate(m for m in firm.books.milestones if m.contract == c.idx):
        invoice = firm.books.invoices[m.invoice] if m.invoice is not None else None
        out.append(
            (
                "milestones",
                m.id,
                {
                    "milestone_no": firm.xrefs.issue(
                        m.id, "filedrop:milestones", f"MS{c.idx + 1:05d}{k + 1}"
                    ),
                    "contract_no": contract_no,
                    "description": m.name,
                    "due_date": dmy(m.due),
                    "amount": cents_str(m.amount_cents),
                    "currency": p.currency,
                    "status": "BILLED" if invoice else "PLANNED",
                    "invoice_no": invoice.number if invoice else "",
                    "created_at": stamp(created),
                    # billed when its invoice was issued: the milestone's last change
                    "updated_at": stamp(max(created, at(invoice.issue, 9)) if invoice else created),
                },
            )
        )
    return out


def payment_row(firm: Firm, pay: PaymentRec) -> dict[str, Any]:
    inv = firm.books.invoices[pay.invoice]
    return {
        "payment_no": firm.xrefs.issue(pay.id, "filedrop:payments", f"RC{pay.id[4:]}"),
        "invoice_no": firm.xrefs.get(inv.id, "filedrop:invoices") or inv.number,
        "customer_no": firm.xrefs.get(firm.accounts[inv.account].id, "filedrop:customers") or "",
        "received_date": dmy(pay.received),
        "amount": cents_str(pay.amount_cents),
        "currency": inv.currency,
        "updated_at": stamp(at(pay.received, 12)),
    }


def journal_rows(
    firm: Firm, post: PostingRec, number: int
) -> list[tuple[str | None, dict[str, Any]]]:
    """(canonical id or None, row) of the two lines of a posting's journal entry; the P&L line
    is the one the canonical fact is read from."""
    p = firm.projects[post.project]
    entry = f"JE{number:07d}"
    rows: list[tuple[str | None, dict[str, Any]]] = []
    for line, account in enumerate(ACCOUNTS[post.kind], start=1):
        debit = line == 1
        fact = account in P_AND_L
        if fact:
            firm.xrefs.issue(post.id, f"{SYSTEM}:journal_{post.kind}", f"{entry}/{line}")
        row = {
            "entry_no": entry,
            "line_no": str(line),
            "posting_date": dmy(post.posted),
            "gl_account": account,
            "project_no": (firm.xrefs.get(p.id, "filedrop:projects") or "") if fact else "",
            "debit": cents_str(post.amount_cents) if debit else "0.00",
            "credit": "0.00" if debit else cents_str(post.amount_cents),
            "currency": p.currency,
            "narration": f"{NARRATION[post.kind]} {p.code}",
            "updated_at": stamp(at(post.posted, 18)),
        }
        rows.append((post.id if fact else None, row))
    return rows


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
    held = {p.idx: created for p, created in erp_common.projects(firm, SYSTEM)}
    for c in firm.books.contracts:
        if c.project in held:
            for kind, key, row in contract_rows(firm, c, held[c.project]):
                firm.add_view(SYSTEM, kind, key, row)
    paid = erp_common.paid_state(firm)
    ours = set()
    for inv in erp_common.invoices(firm, SYSTEM):
        cents, moment = paid.get(inv.idx, (0, at(inv.issue, 9)))
        firm.add_view(SYSTEM, "invoices", inv.id, invoice_row(firm, inv, cents, moment))
        ours.add(inv.idx)
    for pay in firm.books.payments:
        if pay.invoice in ours:
            firm.add_view(SYSTEM, "payments", pay.id, payment_row(firm, pay))
    number = 0
    for post in firm.postings:
        if firm.projects[post.project].legal_entity != "AU01":
            continue
        number += 1
        for canonical, row in journal_rows(firm, post, number):
            firm.add_view(SYSTEM, "journal", canonical, row)
