"""What NetSuite (REST record service) holds for the US entity: customers, jobs (projects),
project tasks, sales orders (the contract lines) with their billing schedules and project
milestones, invoices, customer payments and journal entries for cost and revenue.

A won deal becomes a sales order for the project, billed by a billing schedule: a Standard
monthly schedule (in arrears for fixed-fee instalments, in advance for a retainer) listing the
bills it generates, a Fixed Bid Milestone schedule listing the project's milestone tasks and
their amounts, or a Time and Materials schedule (billed from time).

Record and field names follow NetSuite's REST record browser (entityId, companyName,
subsidiary, terms, externalId, lastModifiedDate, tranId, tranDate, ...); references are
``{"id", "refName"}`` objects as NetSuite returns them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm import erp_common
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import amount_num, at, zulu
from pssync.sandbox.firm.world import ContractLineRec, InvoiceRec, PaymentRec, PostingRec

SYSTEM = "netsuite"
SUBSIDIARY = {"id": "2", "refName": "Meridian Advisory Inc."}
TERMS = {"Net 30": "2", "Net 45": "3", "Net 60": "4"}
CURRENCY = {"USD": "1", "EUR": "4", "AUD": "5", "GBP": "2"}
# Billing schedule types (Billing Schedule Types: Standard, Fixed Bid Milestone, Time and
# Materials) and internal ID bases of the records the firm's contracts become.
SCHEDULE_TYPE = {
    "fixed_fee": "STD",
    "retainer": "STD",
    "milestone": "FBM",
    "time_and_materials": "TM",
}
SALES_ORDER_BASE, SCHEDULE_BASE = 520_000, 40


def service_class(firm: Firm, code: str) -> dict[str, Any]:
    """The classification (Lists > Accounting > Classes) a service line books to."""
    lines = list(firm.ref.service_lines)
    index = [c for c, _ in lines].index(code)
    return ref(str(index + 1), lines[index][1])


def ref(id_: str | None, name: str | None = None) -> dict[str, Any]:
    return {"id": id_, "refName": name} if name else {"id": id_}


def invoice_row(firm: Firm, inv: InvoiceRec, paid: int, moment: dt.datetime) -> dict[str, Any]:
    p = firm.projects[inv.project]
    acc = firm.accounts[inv.account]
    status = ("B", "Paid In Full") if paid >= inv.gross_cents else ("A", "Open")
    return {
        "id": firm.xrefs.issue(inv.id, "netsuite:invoice"),
        "tranId": inv.number,
        "entity": ref(firm.xrefs.get(acc.id, "netsuite:customer"), acc.legal_name),
        "job": ref(firm.xrefs.get(p.id, "netsuite:job"), p.name),
        "subsidiary": dict(SUBSIDIARY),
        "tranDate": inv.issue.isoformat(),
        "dueDate": inv.due.isoformat(),
        "currency": ref(CURRENCY[inv.currency], inv.currency),
        "memo": inv.period,
        "subtotal": amount_num(inv.net_cents),
        "taxTotal": amount_num(inv.tax_cents),
        "total": amount_num(inv.gross_cents),
        "amountRemaining": amount_num(inv.gross_cents - paid),
        "status": ref(status[0], status[1]),
        "externalId": firm.xrefs.get(inv.id, "kantata:invoices"),
        "createdDate": zulu(at(inv.issue, 9)),
        "lastModifiedDate": zulu(moment),
    }


def payment_row(firm: Firm, pay: PaymentRec) -> dict[str, Any]:
    inv = firm.books.invoices[pay.invoice]
    acc = firm.accounts[inv.account]
    return {
        "id": firm.xrefs.issue(pay.id, "netsuite:customerpayment"),
        "tranId": f"PYMT-{pay.id[4:]}",
        "customer": ref(firm.xrefs.get(acc.id, "netsuite:customer"), acc.legal_name),
        "subsidiary": dict(SUBSIDIARY),
        "tranDate": pay.received.isoformat(),
        "currency": ref(CURRENCY[inv.currency], inv.currency),
        "payment": amount_num(pay.amount_cents),
        "apply": [
            {
                "doc": firm.xrefs.get(inv.id, "netsuite:invoice"),
                "amount": amount_num(pay.amount_cents),
            }
        ],
        "lastModifiedDate": zulu(at(pay.received, 12)),
    }


def journal_row(firm: Firm, post: PostingRec) -> dict[str, Any]:
    p = firm.projects[post.project]
    cost = post.kind == "cost"
    debit, credit = (
        ("5000 Cost of Services", "2100 Accrued Payroll")
        if cost
        else ("1210 Unbilled Receivables", "4000 Services Revenue")
    )
    amount = amount_num(post.amount_cents)
    return {
        "id": firm.xrefs.issue(post.id, "netsuite:journalentry"),
        "tranId": f"JE-{post.id}",
        "tranDate": post.posted.isoformat(),
        "subsidiary": dict(SUBSIDIARY),
        "currency": ref(CURRENCY[p.currency], p.currency),
        "memo": f"{'Labor cost' if cost else 'Revenue recognition'} {p.code}",
        "custbody_pssync_kind": post.kind,
        "custbody_project": ref(firm.xrefs.get(p.id, "netsuite:job"), p.name),
        "line": [
            {"account": {"refName": debit}, "debit": amount, "credit": 0.0},
            {"account": {"refName": credit}, "debit": 0.0, "credit": amount},
        ],
        "lastModifiedDate": zulu(at(post.posted, 20 if cost else 21)),
    }


def contract_rows(
    firm: Firm, c: ContractLineRec, created: dt.datetime
) -> list[tuple[str, str, Any]]:
    """(record type, canonical id, row) of a contract: its milestone tasks, its billing schedule
    and its sales order."""
    p = firm.projects[c.project]
    acc = firm.accounts[p.account]
    job = ref(firm.xrefs.get(p.id, "netsuite:job"), p.name)
    stamp = zulu(created)
    kind = SCHEDULE_TYPE[c.method]
    out: list[tuple[str, str, Any]] = []
    milestones = []
    for m in (m for m in firm.books.milestones if m.contract == c.idx):
        task_id = firm.xrefs.issue(m.id, "netsuite:projecttask")
        done = m.invoice is not None
        out.append(
            (
                "projecttask",
                m.id,
                {
                    "id": task_id,
                    "title": m.name,
                    "company": job,
                    "isMilestone": True,
                    "endDate": m.due.isoformat(),
                    "plannedWork": 0,
                    "status": {"refName": "Completed" if done else "Not Started"},
                    "lastModifiedDate": stamp,
                },
            )
        )
        line: dict[str, Any] = {
            "projectTask": ref(task_id, m.name),
            "milestoneDate": m.due.isoformat(),
            "milestoneAmount": amount_num(m.amount_cents),
            "milestoneCompleted": done,
        }
        if done:
            line["milestoneActualCompletionDate"] = m.achieved.isoformat()
        milestones.append(line)
    schedule_key = f"bs-{c.id[3:]}"
    schedule: dict[str, Any] = {
        "id": firm.xrefs.issue(
            schedule_key, "netsuite:billingschedule", str(SCHEDULE_BASE + c.idx + 1)
        ),
        "name": f"{p.code} {c.method.replace('_', ' ')}",
        "scheduleType": kind,
        "project": job,
        "isPublic": False,
        "lastModifiedDate": stamp,
    }
    if kind == "STD":
        schedule.update(
            frequency="MONTHLY",
            inArrears=c.method == "fixed_fee",
            recurrenceCount=len(c.schedule),
            recurrence=[
                {"recurrenceDate": day.isoformat(), "amount": amount_num(cents)}
                for day, cents in c.schedule
            ],
        )
    elif kind == "FBM":
        schedule["milestone"] = milestones
    out.append(("billingschedule", schedule_key, schedule))
    out.append(
        (
            "salesorder",
            c.id,
            {
                "id": firm.xrefs.issue(
                    c.id, "netsuite:salesorder", str(SALES_ORDER_BASE + c.idx + 1)
                ),
                "tranId": f"SO-{c.idx + 1:05d}",
                "entity": ref(firm.xrefs.get(acc.id, "netsuite:customer"), acc.legal_name),
                "job": job,
                "subsidiary": dict(SUBSIDIARY),
                "class": service_class(firm, p.service_line),
                "currency": ref(CURRENCY[p.currency], p.currency),
                "tranDate": created.date().isoformat(),
                "startDate": c.start.isoformat(),
                "endDate": c.end.isoformat(),
                "memo": f"{p.name} ({c.method.replace('_', ' ')})",
                "billingSchedule": ref(schedule["id"], schedule["name"]),
                "status": ref("F", "Pending Billing"),
                "item": [
                    {
                        "item": {"refName": "Professional Services"},
                        "amount": amount_num(c.amount_cents),
                    }
                ],
                "subtotal": amount_num(c.amount_cents),
                "total": amount_num(c.amount_cents),
                "createdDate": stamp,
                "lastModifiedDate": stamp,
            },
        )
    )
    return out


def build(firm: Firm) -> None:
    # A OneWorld account: the US entity is a subsidiary, which every customer and order names.
    firm.add_view(
        SYSTEM, "subsidiary", None, {"id": SUBSIDIARY["id"], "name": SUBSIDIARY["refName"]}
    )
    for acc, since in erp_common.customers(firm, SYSTEM):
        firm.add_view(
            SYSTEM,
            "customer",
            acc.id,
            {
                "id": firm.xrefs.issue(acc.id, "netsuite:customer"),
                "entityId": f"CUST{acc.idx + 1:05d}",
                "companyName": acc.legal_name,
                "isPerson": False,
                "subsidiary": dict(SUBSIDIARY),
                "terms": ref(TERMS[acc.payment_terms], acc.payment_terms),
                "currency": ref(CURRENCY[acc.currency], acc.currency),
                "email": f"ap@{acc.domain}",
                "url": f"https://www.{acc.domain}",
                "externalId": firm.xrefs.get(acc.id, "salesforce:Account"),
                "dateCreated": zulu(since),
                "lastModifiedDate": zulu(since),
            },
        )
    for p, created in erp_common.projects(firm, SYSTEM):
        acc = firm.accounts[p.account]
        done = p.planned_end < firm.today
        job = firm.add_view(
            SYSTEM,
            "job",
            p.id,
            {
                "id": firm.xrefs.issue(p.id, "netsuite:job"),
                "entityId": p.code,
                "companyName": p.name,
                "parent": ref(firm.xrefs.get(acc.id, "netsuite:customer"), acc.legal_name),
                "subsidiary": dict(SUBSIDIARY),
                "startDate": p.planned_start.isoformat(),
                "projectedEndDate": p.planned_end.isoformat(),
                "entityStatus": ref("1" if done else "2", "Closed" if done else "In Progress"),
                "jobType": {"refName": dict(firm.ref.service_lines)[p.service_line]},
                "currency": ref(CURRENCY[p.currency], p.currency),
                "externalId": firm.xrefs.get(firm.opps[p.opp].id, "salesforce:Opportunity"),
                "dateCreated": zulu(created),
                "lastModifiedDate": zulu(created),
            },
        )
        for w in p.wbs:
            firm.add_view(
                SYSTEM,
                "projecttask",
                w.id,
                {
                    "id": firm.xrefs.issue(w.id, "netsuite:projecttask"),
                    "title": w.name,
                    "company": ref(job["id"], p.name),
                    "startDateTime": zulu(at(w.start, 9)),
                    "endDate": w.end.isoformat(),
                    "plannedWork": w.planned_hours,
                    "custevent_wbs_code": w.code,  # the firm's custom CRM field on tasks
                    "status": {"refName": "Completed" if w.end < firm.today else "In Progress"},
                    "lastModifiedDate": zulu(created),
                },
            )
    held = {p.idx: created for p, created in erp_common.projects(firm, SYSTEM)}
    for c in firm.books.contracts:
        if c.project in held:
            for type_name, key, row in contract_rows(firm, c, held[c.project]):
                firm.add_view(SYSTEM, type_name, key, row)
    paid = erp_common.paid_state(firm)
    for inv in erp_common.invoices(firm, SYSTEM):
        cents, moment = paid.get(inv.idx, (0, at(inv.issue, 9)))
        firm.add_view(SYSTEM, "invoice", inv.id, invoice_row(firm, inv, cents, moment))
    us = {i.idx for i in erp_common.invoices(firm, SYSTEM)}
    for pay in firm.books.payments:
        if pay.invoice in us:
            firm.add_view(SYSTEM, "customerpayment", pay.id, payment_row(firm, pay))
    for post in firm.postings:
        if firm.projects[post.project].legal_entity == "US01":
            firm.add_view(SYSTEM, "journalentry", post.id, journal_row(firm, post))
