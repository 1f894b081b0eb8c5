"""Canonical payloads of world records, shaped exactly as `pssync.model` validates them.

One function per entity so the generator and the activity clock describe a record the same
way; each takes the moment it describes, because what a record looks like depends on when.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pssync.sandbox.firm.units import iso, money
from pssync.sandbox.firm.world import (
    AccountRec,
    Assignment,
    ContactRec,
    ContractLineRec,
    InvoiceRec,
    MilestoneRec,
    OppRec,
    PaymentRec,
    Person,
    ProjectRec,
    StageEvent,
    Wbs,
)

if TYPE_CHECKING:
    from pssync.sandbox.firm.state import Firm


def halves_str(halves: int) -> str:
    return f"{halves // 2}.5" if halves % 2 else str(halves // 2)


def quarters_str(quarters: int) -> str:
    whole, rest = divmod(quarters, 4)
    return f"{whole}" if rest == 0 else f"{whole}.{rest * 25:02d}"


def ref_id(prefix: str, code: str) -> str:
    return f"{prefix}-{code.lower()}"


def account(firm: Firm, acc: AccountRec) -> dict[str, Any]:
    le = firm.ref.legal_entities[acc.legal_entity]
    return {
        "id": acc.id,
        "name": acc.name,
        "legal_name": acc.legal_name,
        "domain": acc.domain,
        "billing_address": {
            "street": f"{100 + acc.idx % 800} Market Street",
            "city": acc.city,
            "country": le.country,
        },
        "industry": acc.sector,
        "region_id": ref_id("reg", acc.region),
        "legal_entity_id": ref_id("le", acc.legal_entity),
        "tax_code_id": ref_id("tax", acc.tax_code),
        "payment_terms": acc.payment_terms,
        "currency": acc.currency,
        "status": "active",
        "xrefs": firm.xrefs.of(acc.id),
    }


def contact(firm: Firm, c: ContactRec) -> dict[str, Any]:
    return {
        "id": c.id,
        "account_id": firm.accounts[c.account].id,
        "first_name": c.first,
        "last_name": c.last,
        "email": c.email,
        "phone": c.phone,
        "title": c.title,
        "is_billing_contact": c.is_billing,
        "xrefs": firm.xrefs.of(c.id),
    }


def opportunity(firm: Firm, opp: OppRec, ev: StageEvent) -> dict[str, Any]:
    xrefs = {k: v for k, v in firm.xrefs.of(opp.id).items() if k.startswith("salesforce:")}
    payload: dict[str, Any] = {
        "id": opp.id,
        "account_id": firm.accounts[opp.account].id,
        "name": opp.name,
        "stage": ev.stage,
        "probability": str(ev.probability),
        "amount": money(opp.amount_cents, opp.currency),
        "close_date": ev.close_date.isoformat(),
        "is_closed": ev.is_closed,
        "is_won": ev.is_won,
        "service_line_id": ref_id("sl", opp.service_line),
        "service_category": opp.category_text,
        "region_id": ref_id("reg", opp.region),
        "legal_entity_id": ref_id("le", opp.legal_entity),
        "revenue_method": opp.revenue_method,
        "requested_start": opp.requested_start.isoformat(),
        "duration_months": opp.duration_months,
        "owner": f"{firm.reps[opp.owner].first} {firm.reps[opp.owner].last}",
        "created_at": iso(opp.created),
        "line_items": [
            {
                "id": f"{opp.id}-li-{k + 1}",
                "service_line_id": ref_id("sl", opp.service_line),
                "role_id": ref_id("role", li.role),
                "hours": str(li.hours),
                "rate": money(li.rate_cents, opp.currency),
                "description": firm.ref.role(li.role).name,
            }
            for k, li in enumerate(opp.lines)
        ],
    }
    if opp.project is not None and firm.projects[opp.project].draft_at <= ev.at:
        project = firm.projects[opp.project]
        payload["delivery_start"] = project.planned_start.isoformat()
        ws = firm.xrefs.get(project.id, "kantata:workspaces")
        if ws:
            xrefs["kantata:workspaces"] = ws
    payload["xrefs"] = dict(sorted(xrefs.items()))
    return payload


def project(firm: Firm, p: ProjectRec, status: str, moment: dt.datetime) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "account_id": firm.accounts[p.account].id,
        "opportunity_id": firm.opps[p.opp].id,
        "status": status,
        "service_line_id": ref_id("sl", p.service_line),
        "region_id": ref_id("reg", p.region),
        "legal_entity_id": ref_id("le", p.legal_entity),
        "department_id": ref_id("dep", p.service_line),
        "template_id": ref_id("tpl", p.service_line),
        "planned_start": p.planned_start.isoformat(),
        "planned_end": p.planned_end.isoformat(),
        "baseline_hours": str(p.baseline_hours),
        "currency": p.currency,
        "xrefs": firm.xrefs.of(p.id),
    }
    if status != "draft" and not p.erp_missing:
        payload["project_code"] = p.code
    if status in ("active", "completed") and p.planned_start <= moment.date():
        payload["actual_start"] = p.planned_start.isoformat()
    return payload


def wbs(firm: Firm, p: ProjectRec, w: Wbs) -> dict[str, Any]:
    return {
        "id": w.id,
        "project_id": p.id,
        "code": w.code,
        "name": w.name,
        "planned_hours": str(w.planned_hours),
        "billable": True,
        "xrefs": firm.xrefs.of(w.id),
    }


def resource(firm: Firm, person: Person) -> dict[str, Any]:
    currency = firm.ref.entity_of_region(person.region).currency
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "role_id": ref_id("role", person.role),
        "region_id": ref_id("reg", person.region),
        "department_id": ref_id("dep", person.service_line),
        "cost_rate": money(firm.ref.cost_cents(person.role, currency), currency),
        "bill_rate": money(firm.ref.bill_cents(person.role, currency), currency),
        "weekly_capacity_hours": "40",
        "start_date": person.hired.isoformat(),
        "xrefs": firm.xrefs.of(person.id),
    }


def resource_request(
    firm: Firm, p: ProjectRec, role: str, hours: int, status: str
) -> dict[str, Any]:
    return {
        "id": f"rr-{p.id[4:]}-{role.lower()}",
        "project_id": p.id,
        "role_id": ref_id("role", role),
        "region_id": ref_id("reg", p.region),
        "hours": str(hours),
        "start_date": p.planned_start.isoformat(),
        "end_date": p.planned_end.isoformat(),
        "status": status,
    }


def assignment(firm: Firm, a: Assignment) -> dict[str, Any]:
    p = firm.projects[a.project]
    return {
        "id": a.id,
        "project_id": p.id,
        "resource_id": firm.people[a.person].id,
        "role_id": ref_id("role", a.role),
        "booking_type": "hard" if a.hard else "soft",
        "start_date": a.start.isoformat(),
        "end_date": a.end.isoformat(),
        "hours": halves_str(a.total_halves),
        "bill_rate": money(a.bill_cents, p.currency),
        "xrefs": firm.xrefs.of(a.id),
    }


def time_entry(
    firm: Firm,
    row: int,
    day: dt.date,
    quarters: int,
    billable: bool,
    a: Assignment,
    wbs_id: str | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        **_time_template(firm, a),
        "id": f"te-{row + 1:07d}",
        "work_date": day.isoformat(),
        "hours": quarters_str(quarters),
        "billable": billable,
        "xrefs": {"kantata:time_entries": firm.time_entry_xref(row)},
    }
    if wbs_id:
        payload["wbs_element_id"] = wbs_id
    return payload


def _time_template(firm: Firm, a: Assignment) -> dict[str, Any]:
    """Fields every time entry of one assignment shares (built once per assignment)."""
    cached = firm.cache.get(("te", a.idx))
    if cached is None:
        p = firm.projects[a.project]
        cached = firm.cache[("te", a.idx)] = {
            "project_id": p.id,
            "resource_id": firm.people[a.person].id,
            "role_id": ref_id("role", a.role),
            "bill_rate": money(a.bill_cents, p.currency),
            "cost_rate": money(a.cost_cents, p.currency),
        }
    return cached


def contract_line(firm: Firm, c: ContractLineRec) -> dict[str, Any]:
    p = firm.projects[c.project]
    rules = {
        "time_and_materials": "monthly in arrears",
        "fixed_fee": "monthly instalments",
        "milestone": "on milestone acceptance",
        "retainer": "monthly in advance",
    }
    return {
        "id": c.id,
        "account_id": firm.accounts[p.account].id,
        "project_id": p.id,
        "opportunity_id": firm.opps[p.opp].id,
        "name": f"{p.name} ({c.method.replace('_', ' ')})",
        "revenue_method": c.method,
        "amount": money(c.amount_cents, p.currency),
        "start_date": c.start.isoformat(),
        "end_date": c.end.isoformat(),
        "service_line_id": ref_id("sl", p.service_line),
        "legal_entity_id": ref_id("le", p.legal_entity),
        "billing_rule": rules[c.method],
        "percent_complete_basis": "cost",
        "status": "active",
    }


def billing_schedule(firm: Firm, c: ContractLineRec) -> dict[str, Any]:
    p = firm.projects[c.project]
    return {
        "id": f"bs-{c.id[3:]}",
        "contract_line_id": c.id,
        "frequency": "monthly",
        "start_date": c.schedule[0][0].isoformat(),
        "end_date": c.schedule[-1][0].isoformat(),
        "amount_per_period": money(c.schedule[0][1], p.currency),
    }


def milestone(firm: Firm, m: MilestoneRec, status: str) -> dict[str, Any]:
    c = firm.books.contracts[m.contract]
    payload: dict[str, Any] = {
        "id": m.id,
        "contract_line_id": c.id,
        "name": m.name,
        "due_date": m.due.isoformat(),
        "amount": money(m.amount_cents, firm.projects[c.project].currency),
        "status": status,
    }
    if m.invoice is not None and status == "invoiced":
        payload["invoice_id"] = firm.books.invoices[m.invoice].id
    return payload


def invoice(firm: Firm, inv: InvoiceRec, status: str) -> dict[str, Any]:
    p = firm.projects[inv.project]
    return {
        "id": inv.id,
        "account_id": firm.accounts[inv.account].id,
        "number": inv.number,
        "issue_date": inv.issue.isoformat(),
        "due_date": inv.due.isoformat(),
        "amount": money(inv.net_cents, inv.currency),
        "tax": money(inv.tax_cents, inv.currency),
        "status": status,
        "project_id": p.id,
        "contract_line_id": firm.books.contracts[inv.contract].id,
        "legal_entity_id": ref_id("le", p.legal_entity),
        "xrefs": firm.xrefs.of(inv.id),
    }


def payment(firm: Firm, pay: PaymentRec) -> dict[str, Any]:
    inv = firm.books.invoices[pay.invoice]
    return {
        "id": pay.id,
        "invoice_id": inv.id,
        "account_id": firm.accounts[inv.account].id,
        "received_date": pay.received.isoformat(),
        "amount": money(pay.amount_cents, inv.currency),
        "xrefs": firm.xrefs.of(pay.id),
    }
