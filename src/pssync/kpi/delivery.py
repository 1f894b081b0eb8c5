"""Handoff and delivery KPIs read from the golden store's history in the analytics mirror.

They measure the integration's business promise: a won deal becomes a coded ERP project
quickly, projects start when planned, and milestones are billed when due. Dates of events
(won, project created, code assigned) are the valid-from of the first version showing them,
which is exactly what a bitemporal history can answer and a current-state table cannot.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.snapshot import load_snapshot
from pssync.planning.periods import as_of_instant

BILLED = frozenset({"invoiced", "billed", "paid"})


def _first_dates(
    analytics: AnalyticsStore,
    entity_type: str,
    as_of: dt.date,
    known_at: dt.datetime | None = None,
) -> dict[str, list[tuple[dt.date, dict[str, Any]]]]:
    """Versions valid by the end of T, as known then (or at `known_at`: `--known-now`)."""
    out: dict[str, list[tuple[dt.date, dict[str, Any]]]] = defaultdict(list)
    end = as_of_instant(as_of)
    for record_id, valid_from, _to, payload in analytics.history(entity_type, known_at or end, end):
        out[record_id].append((valid_from.date(), payload))
    return out


def won_dates(
    analytics: AnalyticsStore, as_of: dt.date, known_at: dt.datetime | None = None
) -> dict[str, dt.date]:
    """When each deal first showed as closed-won (valid time), as known at the end of T."""
    out = {}
    for opp_id, versions in _first_dates(analytics, "Opportunity", as_of, known_at).items():
        won = [day for day, p in versions if p.get("is_won")]
        if won and versions[-1][1].get("is_won"):
            out[opp_id] = won[0]
    return out


@dataclass(frozen=True)
class Conversion:
    opportunity_id: str
    won_on: dt.date
    project_on: dt.date | None
    coded_on: dt.date | None

    @property
    def days_to_project(self) -> int | None:
        return None if self.project_on is None else (self.project_on - self.won_on).days

    @property
    def days_to_code(self) -> int | None:
        return None if self.coded_on is None else (self.coded_on - self.won_on).days


def conversions(
    analytics: AnalyticsStore, as_of: dt.date, known_at: dt.datetime | None = None
) -> list[Conversion]:
    """Each closed-won deal with when a project for it appeared and when it got an ERP code."""
    projects = _first_dates(analytics, "Project", as_of, known_at)
    created: dict[str, dt.date] = {}
    coded: dict[str, dt.date] = {}
    for versions in projects.values():
        for day, payload in versions:
            opp = payload.get("opportunity_id")
            if opp is None:
                continue
            created[opp] = min(created.get(opp, day), day)
            if payload.get("project_code"):
                coded[opp] = min(coded.get(opp, day), day)
    return [
        Conversion(opp, won, created.get(opp), coded.get(opp))
        for opp, won in sorted(won_dates(analytics, as_of, known_at).items())
    ]


def conversion_time(
    analytics: AnalyticsStore, as_of: dt.date, known_at: dt.datetime | None = None
) -> dict[str, Any]:
    """Opportunity-to-project conversion time in days (median and mean over converted deals)."""
    days = [c.days_to_project for c in conversions(analytics, as_of, known_at)]
    done = [max(d, 0) for d in days if d is not None]
    return {
        "won": len(days),
        "converted": len(done),
        "median_days": statistics.median(done) if done else None,
        "mean_days": round(statistics.fmean(done), 1) if done else None,
    }


def project_code_sla(
    analytics: AnalyticsStore,
    as_of: dt.date,
    sla_days: int = 5,
    known_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Share of closed-won deals with a coded ERP project within `sla_days` of the win.

    Deals won less than `sla_days` ago without a code yet are not due, so they are left out.
    """
    met = due = 0
    for c in conversions(analytics, as_of, known_at):
        on_time = c.days_to_code is not None and c.days_to_code <= sla_days
        if on_time or (as_of - c.won_on).days > sla_days:
            due += 1
            met += on_time
    return {"sla_days": sla_days, "due": due, "met": met, "share": (met / due) if due else None}


_FIRST_TIME_SQL = """
SELECT project_id, min(work_date) FROM time_entry
WHERE project_id IS NOT NULL AND work_date <= $as_of GROUP BY project_id
"""


def first_time_logged(analytics: AnalyticsStore, as_of: dt.date) -> dict[str, dt.date]:
    """Per project, the first day time was logged on it (as known at the end of T)."""
    analytics.materialize(as_of)
    rows = analytics.con.execute(_FIRST_TIME_SQL, {"as_of": as_of}).fetchall()
    return {str(r[0]): r[1] for r in rows}


def start_variance(
    analytics: AnalyticsStore, as_of: dt.date, known_at: dt.datetime | None = None
) -> dict[str, Any]:
    """Actual start minus the first planned start (the baseline), in days, per started project.

    The actual start is the project's own `actual_start`; a PSA that does not record one
    (Kantata's workspaces carry planned dates only) started the project the first day anyone
    logged time on it, which is what the time entries say."""
    rows: list[dict[str, Any]] = []
    days: list[int] = []
    logged = first_time_logged(analytics, as_of)
    for pid, versions in sorted(_first_dates(analytics, "Project", as_of, known_at).items()):
        planned = next((p["planned_start"] for _, p in versions if p.get("planned_start")), None)
        actual_text = versions[-1][1].get("actual_start")
        actual = dt.date.fromisoformat(actual_text) if actual_text else logged.get(pid)
        if planned and actual:
            delta = (actual - dt.date.fromisoformat(planned)).days
            rows.append({"project_id": pid, "days": delta, "measured": bool(actual_text)})
            days.append(delta)
    return {
        "projects": rows,
        "mean_days": round(statistics.fmean(days), 1) if days else None,
        "late_share": (sum(d > 0 for d in days) / len(days)) if days else None,
    }


def milestone_adherence(
    analytics: AnalyticsStore,
    as_of: dt.date,
    grace_days: int = 0,
    known_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Share of milestones due by T that were invoiced by their due date (plus grace)."""
    snap = load_snapshot(analytics, as_of, known_at)
    due = on_time = 0
    for m in snap.milestones.values():
        if m.due_date > as_of:
            continue
        due += 1
        invoice = snap.invoices.get(m.invoice_id or "")
        limit = m.due_date + dt.timedelta(days=grace_days)
        if invoice is not None and invoice.issue_date <= limit:
            on_time += 1
    return {"due": due, "on_time": on_time, "share": (on_time / due) if due else None}
