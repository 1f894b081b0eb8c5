"""Past forecasts taken apart: what each component forecast at an origin, and what it became.

To learn how the firm's own forecast converts to revenue, every past origin t (a month end)
is forecast exactly as it would have been then (facts valid and known at t) and its
contributions are grouped: backlog by revenue method, age (past its ERP end date, ending
within a quarter, running) and booking cover (hard bookings explain at least half of its
next quarter, or not), won deals still waiting for their contract ("pending"), lines the
model forecasts nothing for ("tail", exposed by their recent revenue or their remaining
value), weighted pipeline by stage (stale deals apart). The
revenue later recognised is attributed to the same groups through its contract line: a line
that existed at t is backlog; a line of a deal pending or open at t belongs to that deal's
group; everything else is new work nobody could see at t. Views are cached per origin, since
one origin serves every later as-of date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backlog import CLOSED
from pssync.forecast.calibration import STALE_DAYS, calibrate
from pssync.forecast.components import Component
from pssync.forecast.run import ForecastResult, forecast_snapshot
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.planning.periods import add_months, month_end, month_start, months_between

Cell = tuple[str, str | None, int]  # (group, service line, horizon in months after t's month)
NEW = "new"
BACKLOG = (Component.SCHEDULED_BACKLOG, Component.UNSCHEDULED_BACKLOG)


def group_class(group: str) -> str:
    """backlog / tail / pending / pipeline / new: the top of a group's hierarchy."""
    return group.split(":", 1)[0]


def parents(group: str) -> list[str]:
    """Ancestors of a group, nearest first: backlog:fixed_fee:running:booked ->
    backlog:fixed_fee:running, backlog:fixed_fee, backlog."""
    parts = group.split(":")
    return [":".join(parts[:k]) for k in range(len(parts) - 1, 0, -1)]


def _age(end: dt.date, as_of: dt.date) -> str:
    """Where a contract line is in its (ERP) term: past its end, ending within a quarter, or
    running. A line past its end date dumps its remaining value into the next month."""
    if end <= as_of:
        return "overdue"
    return "ending" if end <= as_of + dt.timedelta(days=92) else "running"


@dataclass
class OriginView:
    """One origin's forecast by group, and how to attribute later revenue to the groups."""

    as_of: dt.date
    forecast: dict[Cell, float]
    line_group: dict[str, str]  # contract line -> group
    deal_group: dict[str, str]  # opportunity -> group (pending or pipeline:<stage>)
    run_rate: dict[str | None, float]  # monthly, last three full months up to t
    monthly_actuals: dict[tuple[dt.date, str | None], float]  # recognised by t
    result: ForecastResult | None = None  # kept for the live as-of date only
    snapshot: Snapshot | None = None
    # monthly revenue of the last three full months of lines the bottom-up forecasts nothing
    # for ("tail:<method>"): lines past their end that still earn are exposed through it
    exposure: dict[tuple[str, str | None], float] = field(default_factory=dict)

    def lines(self) -> set[str | None]:
        return {sl for (_, sl, _) in self.forecast} | set(self.run_rate)


def _cover(result: ForecastResult, first: dt.date, last: dt.date) -> dict[str, str]:
    """Per contract line, "booked" when hard bookings explain at least half its forecast."""
    booked: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for c in result.revenue:
        if (
            c.component in BACKLOG
            and c.source.startswith("ContractLine:")
            and first <= c.month <= last
        ):
            total[c.source] += float(c.revenue)
            if c.component == Component.SCHEDULED_BACKLOG:
                booked[c.source] += float(c.revenue)
    return {s: "booked" if total[s] and booked[s] / total[s] >= 0.5 else "unbooked" for s in total}


def _groups(snap: Snapshot, result: ForecastResult) -> tuple[dict[str, str], dict[str, str]]:
    first = add_months(month_start(snap.as_of), 1)
    cover = _cover(result, first, add_months(first, 2))
    line_group = {
        cl.id: f"backlog:{cl.revenue_method.value}:{_age(cl.end_date, snap.as_of)}:"
        f"{cover.get(f'ContractLine:{cl.id}', 'unbooked')}"
        for cl in snap.contract_lines.values()
    }
    deal_group = {}
    stale_before = snap.as_of - dt.timedelta(days=STALE_DAYS)
    for opp in snap.opportunities.values():
        if not opp.is_closed:
            stage = "stale" if opp.close_date < stale_before else opp.stage
            deal_group[opp.id] = f"pipeline:{stage}"
        elif opp.is_won:
            deal_group[opp.id] = "pending"
    return line_group, deal_group


def _tail(
    snap: Snapshot,
    currency: str,
    window: set[dt.date],
    forecast_lines: set[str],
    line_group: dict[str, str],
) -> dict[tuple[str, str | None], float]:
    """Open lines the bottom-up forecasts nothing for, exposed through what they have: those
    that earned in the last three months by that monthly revenue ("tail:<method>:earning"),
    the others by their remaining value ("tail:<method>:idle", e.g. queued work on an ERP
    term that has already passed)."""
    exposure: dict[tuple[str, str | None], float] = defaultdict(float)
    recent: dict[str, float] = defaultdict(float)
    earned: dict[str, float] = defaultdict(float)
    for row in snap.actuals:
        if row.contract_line_id is None:
            continue
        amount = float(snap.fx.convert(row.amount, row.currency, currency, row.day))
        earned[row.contract_line_id] += amount
        if month_start(row.day) in window:
            recent[row.contract_line_id] += amount / 3
    for line in snap.contract_lines.values():
        if line.id in forecast_lines or line.status in CLOSED:
            continue
        method = line.revenue_method.value
        if recent.get(line.id, 0.0) > 0:
            group, value = f"tail:{method}:earning", recent[line.id]
        else:
            on = max(line.start_date, snap.as_of)
            total = float(snap.fx.convert(line.amount.amount, line.amount.currency, currency, on))
            group, value = f"tail:{method}:idle", total - earned.get(line.id, 0.0)
        if value > 0:
            line_group[line.id] = group
            exposure[(group, line.service_line_id)] += value
    return dict(exposure)


def _monthly(snap: Snapshot, currency: str) -> dict[tuple[dt.date, str | None], float]:
    out: dict[tuple[dt.date, str | None], float] = defaultdict(float)
    for row in snap.actuals:
        amount = snap.fx.convert(row.amount, row.currency, currency, row.day)
        out[(month_start(row.day), row.service_line_id)] += float(amount)
    return dict(out)


def last_full_month(as_of: dt.date) -> dt.date:
    last = month_start(as_of)
    return last if as_of == month_end(as_of) else add_months(last, -1)


def origin_view(
    analytics: AnalyticsStore,
    as_of: dt.date,
    *,
    horizon: int,
    currency: str = "USD",
    known_at: dt.datetime | None = None,
    keep: bool = False,
) -> OriginView:
    """The calibrated bottom-up forecast as of `as_of` (facts valid and known then), grouped."""
    snap = load_snapshot(analytics, as_of, known_at, invoices=False)
    cal = calibrate(analytics, snap, currency, bands=False)  # no Monte Carlo here
    result = forecast_snapshot(
        snap,
        horizon=horizon + 1,
        currency=currency,
        probability=cal.probability,
        overrun=cal.overrun_of,
        realisation=cal.realisation,
    )
    line_group, deal_group = _groups(snap, result)
    base = month_start(as_of)
    forecast: dict[Cell, float] = defaultdict(float)
    for c in result.revenue:
        h = months_between(base, c.month)
        if c.component == Component.ACTUALS or not 1 <= h <= horizon:
            continue
        kind, _, record = c.source.partition(":")
        group = line_group.get(record) if kind == "ContractLine" else deal_group.get(record)
        forecast[(group or NEW, c.dims.service_line_id, h)] += float(c.revenue)
    monthly = _monthly(snap, currency)
    last = last_full_month(as_of)
    window = {add_months(last, -k) for k in range(3)}
    forecast_lines = {
        c.source.removeprefix("ContractLine:")
        for c in result.revenue
        if c.component in BACKLOG and 1 <= months_between(base, c.month) <= horizon
    }
    exposure = _tail(snap, currency, window, forecast_lines, line_group)
    run_rate: dict[str | None, float] = defaultdict(float)
    for (month, sl), amount in monthly.items():
        if month in window:
            run_rate[sl] += amount / 3
    return OriginView(
        as_of,
        dict(forecast),
        line_group,
        deal_group,
        dict(run_rate),
        monthly,
        result if keep else None,
        snap if keep else None,
        exposure,
    )


@dataclass
class Realised:
    """Revenue recognised by the learning date, per month, service line, line and deal."""

    as_of: dt.date
    rows: list[tuple[dt.date, str | None, str | None, str | None, float]] = field(
        default_factory=list
    )  # (month, service line, contract line, opportunity, amount)

    @classmethod
    def of(cls, snap: Snapshot, currency: str) -> Realised:
        deal_of_project = {p.id: p.opportunity_id for p in snap.projects.values()}
        acc: dict[tuple[dt.date, str | None, str | None], float] = defaultdict(float)
        for row in snap.actuals:
            amount = float(snap.fx.convert(row.amount, row.currency, currency, row.day))
            acc[(month_start(row.day), row.service_line_id, row.contract_line_id)] += amount
        rows = []
        for (month, sl, line_id), amount in sorted(acc.items(), key=lambda kv: str(kv[0])):
            cl = snap.contract_lines.get(line_id) if line_id else None
            deal = None
            if cl is not None:
                deal = cl.opportunity_id or deal_of_project.get(cl.project_id or "")
            rows.append((month, sl, line_id, deal, amount))
        return cls(snap.as_of, rows)

    def attribute(self, view: OriginView, horizon: int) -> dict[Cell, float]:
        """Revenue of months t+1..t+horizon (realised by now) by the origin's groups."""
        base = month_start(view.as_of)
        last = last_full_month(self.as_of)
        out: dict[Cell, float] = defaultdict(float)
        for month, sl, line_id, deal, amount in self.rows:
            h = months_between(base, month)
            if not 1 <= h <= horizon or month > last:
                continue
            group = view.line_group.get(line_id or "") or view.deal_group.get(deal or "") or NEW
            out[(group, sl, h)] += amount
        return dict(out)
