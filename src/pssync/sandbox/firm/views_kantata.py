"""What Kantata (Mavenlink API v1) holds: workspaces, tasks, people, bookings, staffing requests
(`views_kantata_requests`), time, invoices. Completed projects are archived, as firms archive
finished work in Kantata (the API then lists them only with ``include_archived=true``).

Kantata is the PSA, so it is the system of record for schedules and staffing: its workspace
dates are the feasible dates, which is exactly why they drift from the CRM's. IDs are digit
strings; money is integer cents; durations are minutes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm import views_kantata_requests
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import at, iso
from pssync.sandbox.firm.world import InvoiceRec, ProjectRec

SYSTEM = "kantata"
STATUS = {
    "draft": {"key": 110, "message": "Estimate", "color": "grey"},
    "active": {"key": 310, "message": "Active", "color": "green"},
    "completed": {"key": 510, "message": "Completed", "color": "blue"},
    "cancelled": {"key": 610, "message": "Cancelled", "color": "red"},
}


def ts(moment: dt.datetime) -> str:
    return iso(moment)


def project_status(project: ProjectRec, moment: dt.datetime) -> tuple[str, dt.datetime]:
    """(status, time it took effect) of a project at `moment`."""
    if project.won_at is None or project.won_at + dt.timedelta(days=1) > moment:
        return "draft", project.draft_at
    done = at(project.planned_end + dt.timedelta(days=1), 20)
    if done <= moment:
        return "completed", done
    return "active", project.won_at + dt.timedelta(days=1)


def project_fields(p: ProjectRec, status: str, moment: dt.datetime) -> list[dict[str, Any]]:
    """The project custom fields the firm defined in Kantata (Custom Field Values, subject
    Workspace): its practice (department), the template it was planned from, the baseline
    hours of its plan and the day work started, which Kantata's workspace has no standard
    field for."""
    code = p.service_line
    out: list[dict[str, Any]] = [
        {"name": "Department", "type": "single", "value": f"D-{code}"},
        {"name": "Project Template", "type": "single", "value": f"T-{code}"},
        {"name": "Baseline Hours", "type": "number", "value": p.baseline_hours},
    ]
    if status in ("active", "completed") and p.planned_start <= moment.date():
        out.append({"name": "Actual Start", "type": "date", "value": p.planned_start.isoformat()})
    return out


def workspace_row(firm: Firm, p: ProjectRec, moment: dt.datetime) -> dict[str, Any]:
    status, changed = project_status(p, moment)
    opp = firm.opps[p.opp]
    return {
        "id": firm.xrefs.issue(p.id, "kantata:workspaces"),
        "title": p.name,
        "description": f"{firm.ref.role('PM').name} led {p.service_line} engagement",
        "workspace_group_ids": [
            firm.xrefs.issue(firm.accounts[p.account].id, "kantata:workspace_groups")
        ],
        "start_date": p.planned_start.isoformat(),
        "due_date": p.planned_end.isoformat(),
        "price_in_cents": opp.amount_cents,
        "currency": p.currency,
        "status": dict(STATUS[status]),
        "archived": status == "completed",
        "custom_field_values": project_fields(p, status, moment),
        "external_references": [
            {
                "service_name": "salesforce",
                "service_model": "Opportunity",
                "service_model_ref": firm.xrefs.get(opp.id, "salesforce:Opportunity"),
            }
        ],
        "created_at": ts(p.draft_at),
        "updated_at": ts(changed),
    }


def invoice_row(
    firm: Firm, inv: InvoiceRec, paid_cents: int, moment: dt.datetime
) -> dict[str, Any]:
    p = firm.projects[inv.project]
    status = "paid" if paid_cents >= inv.gross_cents else ("partial" if paid_cents else "new")
    return {
        "id": firm.xrefs.issue(inv.id, "kantata:invoices"),
        "user_invoice_number": inv.number,
        "workspace_ids": [firm.xrefs.get(p.id, "kantata:workspaces")],
        "invoice_date": inv.issue.isoformat(),
        "due_date": inv.due.isoformat(),
        "payment_schedule": (inv.due - inv.issue).days,
        "draft": False,
        "status": status,
        "currency": inv.currency,
        "price_in_cents": inv.net_cents,
        "tax_in_cents": inv.tax_cents,
        "balance_in_cents": inv.gross_cents - paid_cents,
        "created_at": ts(at(inv.issue, 9)),
        "updated_at": ts(moment),
    }


def time_rows(firm: Firm, rows: list[int]) -> list[dict[str, Any]]:
    """Kantata time_entries for the given table rows (per-assignment fields built once)."""
    out = []
    stamps: dict[dt.date, str] = {}
    for row, day, q, b, a, wbs_id in firm.time_rows(rows):
        base = firm.cache.get(("kt", a.idx))
        if base is None:
            p = firm.projects[a.project]
            base = firm.cache[("kt", a.idx)] = {
                "rate_in_cents": a.bill_cents,
                "cost_rate_in_cents": a.cost_cents,
                "currency": p.currency,
                "user_id": firm.xrefs.get(firm.people[a.person].id, "kantata:users"),
                "workspace_id": firm.xrefs.get(p.id, "kantata:workspaces"),
                # the project role the person logs the time in (Kantata: "role (Role) - the
                # project role of the user who performed the work for the time entry",
                # https://developer.kantata.com/kantata/specification/time-entries/create-time-entry)
                "role_id": firm.xrefs.get(f"role-{a.role.lower()}", "kantata:roles"),
                "notes": "",
                "approved": True,
            }
        logged = stamps.get(day) or stamps.setdefault(day, ts(at(day, 18)))
        out.append(
            {
                **base,
                "id": firm.time_entry_xref(row),
                "date_performed": day.isoformat(),
                "time_in_minutes": q * 15,
                "billable": b,
                "story_id": firm.xrefs.get(wbs_id or "", "kantata:stories"),
                "created_at": logged,
                "updated_at": logged,
            }
        )
    return out


def build(firm: Firm) -> None:
    cutoff = at(firm.today)
    start = ts(at(firm.ref.history_start))
    for role in firm.ref.roles:
        rid = f"role-{role.code.lower()}"
        firm.add_view(
            SYSTEM,
            "roles",
            rid,
            {
                "id": firm.xrefs.issue(rid, "kantata:roles"),
                "name": role.name,
                "created_at": start,
                "updated_at": start,
            },
        )
    for person in firm.people:
        made = ts(at(person.hired, 8))
        firm.add_view(
            SYSTEM,
            "users",
            person.id,
            {
                "id": firm.xrefs.issue(person.id, "kantata:users"),
                "full_name": person.name,
                "email_address": person.email,
                "headline": firm.ref.role(person.role).name,
                "created_at": made,
                "updated_at": made,
            },
        )
    seen: set[int] = set()
    for p in firm.projects:
        acc = firm.accounts[p.account]
        if acc.idx not in seen:
            seen.add(acc.idx)
            firm.add_view(
                SYSTEM,
                "workspace_groups",
                acc.id,
                {
                    "id": firm.xrefs.issue(acc.id, "kantata:workspace_groups"),
                    "name": acc.name,
                    "company": True,
                    "created_at": ts(p.draft_at),
                    "updated_at": ts(p.draft_at),
                },
            )
        ws = firm.add_view(SYSTEM, "workspaces", p.id, workspace_row(firm, p, cutoff))
        for w in p.wbs:
            state = (
                "completed"
                if w.end < firm.today
                else ("started" if w.start < firm.today and not p.is_draft else "not started")
            )
            firm.add_view(
                SYSTEM,
                "stories",
                w.id,
                {
                    "id": firm.xrefs.issue(w.id, "kantata:stories"),
                    "title": w.name,
                    "story_type": "task",
                    "workspace_id": ws["id"],
                    "start_date": w.start.isoformat(),
                    "due_date": w.end.isoformat(),
                    "state": state,
                    "time_estimate_in_minutes": w.planned_hours * 60,
                    # The firm's WBS code (a Story custom field): Kantata tasks have none
                    "custom_field_values": [{"name": "WBS Code", "value": w.code}],
                    "created_at": ts(p.draft_at),
                    "updated_at": ts(p.draft_at),
                },
            )
    for a in firm.assignments:
        p = firm.projects[a.project]
        person = firm.people[a.person]
        wr_key = f"{p.id}/{person.id}/{a.role}"
        made = ts(a.created)
        if firm.view_record(SYSTEM, "workspace_resources", wr_key) is None:
            firm.add_view(
                SYSTEM,
                "workspace_resources",
                wr_key,
                {
                    "id": firm.xrefs.issue(wr_key, "kantata:workspace_resources"),
                    "workspace_id": firm.xrefs.get(p.id, "kantata:workspaces"),
                    "user_id": firm.xrefs.get(person.id, "kantata:users"),
                    "role_id": firm.xrefs.get(f"role-{a.role.lower()}", "kantata:roles"),
                    "created_at": made,
                    "updated_at": made,
                },
            )
        firm.add_view(
            SYSTEM,
            "workspace_allocations",
            a.id,
            {
                "id": firm.xrefs.issue(a.id, "kantata:workspace_allocations"),
                "workspace_id": firm.xrefs.get(p.id, "kantata:workspaces"),
                "resource_id": firm.xrefs.get(wr_key, "kantata:workspace_resources"),
                "user_id": firm.xrefs.get(person.id, "kantata:users"),
                "start_date": a.start.isoformat(),
                "end_date": a.end.isoformat(),
                "minutes": a.total_halves * 30,
                "hard": a.hard,
                "created_at": made,
                "updated_at": made,
            },
        )
    views_kantata_requests.build(firm)
    firm.views[SYSTEM]["time_entries"] = time_rows(firm, list(range(firm.history_rows)))
    paid: dict[int, int] = {}
    last_paid: dict[int, dt.datetime] = {}
    for pay in firm.books.payments:
        paid[pay.invoice] = paid.get(pay.invoice, 0) + pay.amount_cents
        last_paid[pay.invoice] = at(pay.received, 12)
    for inv in firm.books.invoices:
        moment = last_paid.get(inv.idx, at(inv.issue, 9))
        firm.add_view(
            SYSTEM, "invoices", inv.id, invoice_row(firm, inv, paid.get(inv.idx, 0), moment)
        )
