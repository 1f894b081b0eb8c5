"""Backlog: what contracted work will still earn, scheduled (booked people) or not (burn curve).

Each active contract line is recognised under its own method. Hard bookings on the line's
project turn into monthly hours; T&M and fixed-fee lines share those hours in proportion to
their value. Whatever part of the remaining contract value the bookings do not explain is
unscheduled backlog, spread over the remaining duration on a burn curve. The same pass
produces the billing (invoice) forecast, since invoices follow from the same schedules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from pssync.forecast import revenue_methods as rm
from pssync.forecast.components import (
    Component,
    Dims,
    Ledger,
    burn_weights,
    hours_by_month,
    merge,
    remaining_months,
)
from pssync.forecast.money import ZERO, allocate, cents
from pssync.forecast.snapshot import Snapshot
from pssync.model import BookingType, ContractLine, PercentCompleteBasis, Project, RevenueMethod

CLOSED = frozenset({"cancelled", "closed", "completed", "terminated"})
BILLED = frozenset({"invoiced", "billed", "paid"})
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3}
EFFORT_METHODS = (RevenueMethod.TIME_AND_MATERIALS, RevenueMethod.FIXED_FEE)


@dataclass(frozen=True)
class BacklogOptions:
    burn_curve: str = "flat"
    overrun: Callable[[str | None], Decimal] = lambda _sl: Decimal(1)
    #: Billable hours logged per hard-booked hour (calibration.realisation_ratio): T&M earns
    #: what is logged, and people log less than they are booked (absence, non-billable time).
    realisation: Decimal = Decimal(1)


@dataclass
class _Booked:
    """Future hours of one project's hard bookings, with revenue and cost in a currency."""

    hours: dict[dt.date, Decimal]
    revenue: dict[dt.date, Decimal]
    cost: dict[dt.date, Decimal]
    last_day: dt.date | None = None  # end of the latest hard booking


def line_dims(snap: Snapshot, cl: ContractLine, project: Project | None) -> Dims:
    account = snap.accounts.get(cl.account_id)
    return Dims(
        cl.service_line_id or (project.service_line_id if project else None),
        (project.region_id if project else None) or (account.region_id if account else None),
        cl.legal_entity_id
        or (project.legal_entity_id if project else None)
        or (account.legal_entity_id if account else None),
    )


def booked(snap: Snapshot, project_id: str | None, currency: str) -> _Booked:
    """Hard-booked future hours of a project, priced at bill and cost rates in `currency`."""
    out = _Booked({}, {}, {})
    if project_id is None:
        return out
    as_of = snap.as_of
    hours, revenue, cost = [], [], []
    for a in snap.assignments_of(project_id):
        res = snap.resources.get(a.resource_id)
        if a.booking_type != BookingType.HARD or res is None:
            continue
        role = snap.roles.get(a.role_id or res.role_id)
        h = hours_by_month(a.hours, a.start_date, a.end_date, snap.calendar(res.region_id), as_of)
        bill = a.bill_rate or res.bill_rate or (role.default_bill_rate if role else None)
        bill_rate = snap.fx.convert(bill.amount, bill.currency, currency, as_of) if bill else ZERO
        cost_rate = snap.fx.convert(res.cost_rate.amount, res.cost_rate.currency, currency, as_of)
        hours.append(h)
        revenue.append({m: cents(v * bill_rate) for m, v in h.items()})
        cost.append({m: v * cost_rate for m, v in h.items()})
        out.last_day = max(out.last_day or a.end_date, a.end_date)
    return _Booked(merge(hours), merge(revenue), merge(cost), out.last_day)


def _spread(
    amount: Decimal, as_of: dt.date, start: dt.date, end: dt.date, curve: str
) -> rm.Schedule:
    if amount <= 0:
        return {}
    months = remaining_months(as_of, start, end)
    weights = burn_weights(months, as_of + dt.timedelta(days=1), curve)
    return dict(zip(months, allocate(amount, weights), strict=True))


def _scale(schedule: dict[dt.date, Decimal], share: Decimal) -> dict[dt.date, Decimal]:
    return {m: v * share for m, v in schedule.items()}


class LineForecaster:
    """Revenue and billing schedules of one contract line (contract currency)."""

    def __init__(self, snap: Snapshot, cl: ContractLine, opts: BacklogOptions) -> None:
        self.snap, self.cl, self.opts = snap, cl, opts
        self.project = snap.projects.get(cl.project_id) if cl.project_id else None
        self.currency = cl.amount.currency
        self.value = cents(cl.amount.amount)
        done = snap.recognized_to_date().get(cl.id, {})
        self.recognized = sum(
            (snap.fx.convert(v, c, self.currency, snap.as_of) for c, v in done.items()), ZERO
        )
        self.remaining = max(self.value - cents(self.recognized), ZERO)
        end = self.project.planned_end if self.project and self.project.planned_end else None
        self.end = max(cl.end_date, end) if end else cl.end_date

    def share(self) -> Decimal:
        """This line's share of its project's booked hours (T&M and fixed-fee lines only)."""
        peers = [
            c.amount.amount
            for c in self.snap.lines_of(self.cl.project_id or "")
            if c.revenue_method in EFFORT_METHODS and c.status not in CLOSED
        ]
        total = sum(peers, ZERO)
        return self.cl.amount.amount / total if total > 0 else Decimal(1)

    def revenue(self, work: _Booked) -> tuple[rm.Schedule, rm.Schedule]:
        """(scheduled, unscheduled) revenue by month."""
        method, as_of, curve = self.cl.revenue_method, self.snap.as_of, self.opts.burn_curve
        if method == RevenueMethod.TIME_AND_MATERIALS:
            booked = rm.cap_cumulative(_scale(work.revenue, self.share()), self.remaining)
            booked = {m: cents(v) for m, v in booked.items()}
            # value the bookings do not cover is unscheduled; the booked value not realised
            # is an under-run of the contract, not revenue deferred to later months
            left = self.remaining - sum(booked.values(), ZERO)
            sched = {m: cents(v * self.opts.realisation) for m, v in booked.items()}
            # T&M value is a ceiling, not a commitment: only the part of the term the bookings
            # do not reach yet is unscheduled work; headroom left under bookings that run to
            # the end of the term is never earned (the medium firm's T&M lines end ~10% under)
            first = self.cl.start_date
            if work.last_day is not None:
                first = max(first, work.last_day + dt.timedelta(days=1))
            if first > self.cl.end_date or self.cl.end_date <= as_of:
                return sched, {}
            return sched, _spread(left, as_of, first, self.cl.end_date, curve)
        if method == RevenueMethod.FIXED_FEE:
            return self._fixed_fee(work)
        if method == RevenueMethod.MILESTONE:
            ms = self.snap.milestones_of(self.cl.id)
            pairs = [
                (
                    m.due_date,
                    self.snap.fx.convert(m.amount.amount, m.amount.currency, self.currency, as_of),
                )
                for m in ms
            ]
            out = rm.milestone(self.value, self.recognized, pairs, as_of, self.cl.end_date)
            return (out, {}) if ms else ({}, out)
        return rm.ratable(self.value, self.cl.start_date, self.cl.end_date, as_of), {}

    def _fixed_fee(self, work: _Booked) -> tuple[rm.Schedule, rm.Schedule]:
        snap, share, pid = self.snap, self.share(), self.cl.project_id or ""
        hours_done = snap.hours_to_date.get(pid, ZERO) * share
        cost_done = (
            sum(
                (
                    snap.fx.convert(v, c, self.currency, snap.as_of)
                    for c, v in snap.cost_to_date.get(pid, {}).items()
                ),
                ZERO,
            )
            * share
        )
        future_hours = _scale(work.hours, share)
        baseline = self.project.baseline_hours if self.project else None
        extra = ZERO
        if baseline is not None:
            eac_hours = baseline * share * self.opts.overrun(self.cl.service_line_id)
            extra = max(eac_hours - hours_done - sum(future_hours.values(), ZERO), ZERO)
        total_h = hours_done + sum(future_hours.values(), ZERO)
        by_cost = self.cl.percent_complete_basis == PercentCompleteBasis.COST and total_h > 0
        if by_cost:
            rate = (cost_done + sum(work.cost.values(), ZERO) * share) / total_h
            sched_eff, done_eff = _scale(work.cost, share), cost_done
        else:
            rate, sched_eff, done_eff = Decimal(1), future_hours, hours_done
        later_eff = {
            m: v * rate
            for m, v in _spread(
                extra, snap.as_of, snap.as_of, self.end, self.opts.burn_curve
            ).items()
        }
        if not sched_eff and not later_eff:
            return {}, _spread(
                self.remaining, snap.as_of, self.cl.start_date, self.end, self.opts.burn_curve
            )
        effort = merge([sched_eff, later_eff])
        revenue = rm.percent_complete(self.value, self.recognized, done_eff, effort)
        sched: rm.Schedule = {}
        later: rm.Schedule = {}
        for month, amount in revenue.items():
            a, b = allocate(amount, [sched_eff.get(month, ZERO), later_eff.get(month, ZERO)])
            sched[month], later[month] = a, b
        return sched, later

    def billing(self, revenue: rm.Schedule) -> rm.Schedule:
        """Invoices: milestones where they exist, the schedule for retainers, else in arrears."""
        as_of = self.snap.as_of
        ms = self.snap.milestones_of(self.cl.id)
        if ms:
            return rm.bill_milestones(
                [
                    (m.due_date, m.amount.amount, m.invoice_id is not None or m.status in BILLED)
                    for m in ms
                ],
                as_of,
            )
        if self.cl.revenue_method == RevenueMethod.RETAINER:
            sched = self.snap.schedule_of(self.cl.id)
            months = PERIOD_MONTHS.get(sched.frequency, 1) if sched else 1
            per = sched.amount_per_period.amount if sched and sched.amount_per_period else None
            return rm.bill_on_schedule(
                self.value, self.cl.start_date, self.cl.end_date, as_of, months, per
            )
        return rm.bill_in_arrears(revenue)


def add_backlog(ledger: Ledger, billing: Ledger, snap: Snapshot, opts: BacklogOptions) -> None:
    """Scheduled and unscheduled backlog of every open contract line, plus booked cost."""
    costed: set[str] = set()
    for cl in sorted(snap.contract_lines.values(), key=lambda c: c.id):
        if cl.status in CLOSED:
            continue
        line = LineForecaster(snap, cl, opts)
        work = booked(snap, cl.project_id, line.currency)
        dims, source = line_dims(snap, cl, line.project), f"ContractLine:{cl.id}"
        sched, later = line.revenue(work)
        cost: dict[dt.date, Decimal] = {}
        if cl.project_id and cl.project_id not in costed:
            costed.add(cl.project_id)
            cost = work.cost
        ledger.add(Component.SCHEDULED_BACKLOG, dims, source, line.currency, sched, cost)
        ledger.add(Component.UNSCHEDULED_BACKLOG, dims, source, line.currency, later)
        bills = line.billing(merge([sched, later]))
        billing.add(Component.SCHEDULED_BACKLOG, dims, source, line.currency, bills)
