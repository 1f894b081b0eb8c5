"""Delivery and ERP facts of one job: project, contract line, bookings, time, revenue.

The PSA knows the capacity-constrained plan as soon as the project exists and replans the end
when the run turns out longer or shorter. The ERP contract line is signed on the dates the
deal requested; for most worlds' lines it is then synced to the PSA's dates, but a share
(`WorldTraits.erp_stale`) keeps the signed dates forever, as happens when nobody owns the sync.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pssync.sandbox.worlds.delivery import Job
from pssync.sandbox.worlds.emit import ENTITY, REGION, Fact, usd
from pssync.sandbox.worlds.finance import Books, month_end

ONE_WEEK = dt.timedelta(days=7)


def project(job: Job) -> list[Fact]:
    deal = job.deal
    base: dict[str, Any] = {
        "id": f"wprj-{job.idx:05d}",
        "name": f"Project {job.idx}",
        "account_id": f"wacc-{deal.account:04d}",
        "opportunity_id": deal.id,
        "status": "draft",
        "service_line_id": f"sl-{deal.line.code}",
        "region_id": REGION,
        "legal_entity_id": ENTITY,
        "planned_start": job.start.isoformat(),
        "planned_end": job.planned_end.isoformat(),
        "baseline_hours": str(round(sum(deal.hours.values()), 1)),
        "currency": "USD",
        "project_code": f"P{job.idx:05d}",
    }
    out: list[Fact] = [(job.created, "Project", base)]
    active = {**base, "status": "active", "actual_start": job.start.isoformat()}
    out.append((job.start, "Project", active))
    if job.actual_weeks != job.planned_weeks:
        out.append((replan_day(job), "Project", {**active, "planned_end": job.end.isoformat()}))
    done = {**active, "status": "completed", "planned_end": job.end.isoformat()}
    out.append((job.end + dt.timedelta(days=3), "Project", done))
    return out


def replan_day(job: Job) -> dt.date:
    """The PSA sees the run will differ from plan about 70% of the way into the shorter one."""
    weeks = min(job.planned_weeks, job.actual_weeks)
    return max(job.start, job.start + dt.timedelta(days=int(7 * weeks * 0.7)))


def contract(job: Job, books: Books) -> list[Fact]:
    deal = job.deal
    line_id = f"wcl-{job.idx:05d}"
    base: dict[str, Any] = {
        "id": line_id,
        "account_id": f"wacc-{deal.account:04d}",
        "project_id": f"wprj-{job.idx:05d}",
        "opportunity_id": deal.id,
        "name": f"Contract {job.idx}",
        "revenue_method": deal.method,
        "amount": usd(deal.amount),
        "start_date": job.requested.isoformat(),
        "end_date": job.erp_end.isoformat(),
        "service_line_id": f"sl-{deal.line.code}",
        "legal_entity_id": ENTITY,
        "percent_complete_basis": "hours",
        "status": "active",
    }
    # (day, changes) applied in day order so later changes keep earlier ones
    changes: list[tuple[dt.date, dict[str, Any]]] = [(job.contract_at, {})]
    if not job.stale_erp:
        synced = max(job.contract_at, job.created + ONE_WEEK)
        changes.append(
            (synced, {"start_date": job.start.isoformat(), "end_date": job.planned_end.isoformat()})
        )
        if job.actual_weeks != job.planned_weeks:
            changes.append((replan_day(job) + ONE_WEEK, {"end_date": job.end.isoformat()}))
    for day, ceiling in books.ceilings[1:]:
        changes.append((day, {"amount": usd(ceiling)}))
    changes.append((job.end + dt.timedelta(days=10), {"status": "completed"}))
    out: list[Fact] = []
    state = dict(base)
    for day, change in sorted(changes, key=lambda c: c[0]):
        state = {**state, **change}
        out.append((day, "ContractLine", state))
    out.extend(_billing(job, books, line_id))
    return out


def _billing(job: Job, books: Books, line_id: str) -> list[Fact]:
    out: list[Fact] = []
    term = (job.erp_end - job.requested).days
    for m in books.milestones:
        due = job.requested + dt.timedelta(days=int(term * float(m.fraction)))
        payload: dict[str, Any] = {
            "id": f"{line_id}-{m.name.lower()}",
            "contract_line_id": line_id,
            "name": m.name,
            "due_date": due.isoformat(),
            "amount": usd(m.amount),
            "status": "planned",
        }
        out.append((job.contract_at, "BillingMilestone", payload))
        if not job.stale_erp:
            planned = job.start + dt.timedelta(days=int(7 * job.planned_weeks * float(m.fraction)))
            payload = {**payload, "due_date": planned.isoformat()}
            out.append((max(job.contract_at, job.created + ONE_WEEK), "BillingMilestone", payload))
        if m.reached is not None:
            out.append(
                (month_end(m.reached), "BillingMilestone", {**payload, "status": "invoiced"})
            )
    if job.deal.method == "retainer":
        out.append(
            (
                job.contract_at,
                "BillingSchedule",
                {
                    "id": f"{line_id}-sched",
                    "contract_line_id": line_id,
                    "frequency": "monthly",
                    "start_date": job.requested.isoformat(),
                    "end_date": job.erp_end.isoformat(),
                },
            )
        )
    return out


def delivery(job: Job, books: Books) -> list[Fact]:
    project_id = f"wprj-{job.idx:05d}"
    out: list[Fact] = []
    for k, b in enumerate(job.bookings):
        out.append(
            (
                b.made,
                "Assignment",
                {
                    "id": f"wasg-{job.idx:05d}-{k:03d}",
                    "project_id": project_id,
                    "resource_id": b.person.id,
                    "role_id": f"role-{b.person.role}",
                    "booking_type": "hard",
                    "start_date": b.start.isoformat(),
                    "end_date": b.end.isoformat(),
                    "hours": str(b.hours),
                    "bill_rate": usd(round(job.deal.rate(b.person.role), 2)),
                },
            )
        )
    for k, (day, person, hours) in enumerate(job.entries):
        rate = round(job.deal.rate(person.role), 2)
        out.append(
            (
                day,
                "TimeEntry",
                {
                    "id": f"wte-{job.idx:05d}-{k:05d}",
                    "project_id": project_id,
                    "resource_id": person.id,
                    "role_id": f"role-{person.role}",
                    "work_date": day.isoformat(),
                    "hours": str(hours),
                    "billable": True,
                    "bill_rate": usd(rate),
                    "cost_rate": usd(round(rate * 0.55, 2)),
                },
            )
        )
    for end, amount in sorted(books.revenue.items()):
        out.append(
            (
                end,
                "RevenueEvent",
                {
                    "id": f"wrev-{job.idx:05d}-{end:%Y%m}",
                    "recognized_date": end.isoformat(),
                    "amount": usd(amount),
                    "project_id": project_id,
                    "contract_line_id": f"wcl-{job.idx:05d}",
                    "revenue_method": job.deal.method,
                    "service_line_id": f"sl-{job.deal.line.code}",
                    "region_id": REGION,
                    "legal_entity_id": ENTITY,
                },
            )
        )
    return out


def total_revenue(books: Books) -> Decimal:
    return sum(books.revenue.values(), Decimal(0))
