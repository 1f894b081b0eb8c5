"""Weighted pipeline: open deals x calibrated win probability, from a start delivery can meet.

Each open opportunity's start is resource-constrained (see capacity.py): the requested start
moves to the first month in which the roles on its line items have the hours free. Its amount
x probability is then spread evenly over `duration_months` whole months from the start month,
so a deal that slips one month moves exactly one month's share out of the quarter. Closed-won
deals that have no contract line yet (handoff to the ERP still pending) are backlog with
certainty, spread the same way, so a win never vanishes between CRM and ERP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pssync.forecast.components import Component, Dims, Ledger
from pssync.forecast.money import ZERO, allocate
from pssync.forecast.snapshot import Snapshot
from pssync.model import Opportunity, ProjectStatus
from pssync.planning.capacity import CapacityPlan, Demand, Placement
from pssync.planning.periods import add_months, month_start

DEFAULT_DURATION = 3
ProbabilityFn = Callable[[Opportunity], Decimal]


@dataclass(frozen=True)
class PipelineOptions:
    probability_multiplier: Decimal = Decimal(1)
    start_shift_days: int = 0
    default_duration_months: int = DEFAULT_DURATION
    include_soft_bookings: bool = False
    added_weekly_hours: Mapping[str, float] = field(default_factory=dict)
    max_search_months: int = 24


def crm_probability(opp: Opportunity) -> Decimal:
    return opp.probability / 100


def is_open(opp: Opportunity) -> bool:
    return not opp.is_closed


def won_without_contract(snap: Snapshot) -> list[Opportunity]:
    """Won deals whose contract lines have not arrived yet (ERP handoff pending). A store with
    no contract line and no project at all has no PSA or ERP feeding it (a CRM-only firm): its
    wins are bookings, not backlog pending a handoff that never comes."""
    if not snap.contract_lines and not snap.projects:
        return []
    contracted = {c.opportunity_id for c in snap.contract_lines.values() if c.opportunity_id}
    contracted |= {
        p.opportunity_id for p in snap.projects.values() if p.opportunity_id and snap.lines_of(p.id)
    }
    return [
        o
        for o in snap.opportunities.values()
        if o.is_closed
        and o.is_won
        and o.id not in contracted
        and o.close_date > month_start(snap.as_of) - dt.timedelta(days=366)
    ]


def requested_start(snap: Snapshot, opp: Opportunity, shift_days: int = 0) -> dt.date:
    """What sales asked for (else a draft project's start), never before the day after the
    expected close: delivery does not start on an unsigned deal, and requested starts are set
    when a deal is created and go stale as its close date slips."""
    draft = next((p for p in snap.projects_of(opp.id) if p.planned_start), None)
    start = opp.requested_start or (draft.planned_start if draft else None)
    start = max(start or opp.close_date, opp.close_date + dt.timedelta(days=1))
    return max(start + dt.timedelta(days=shift_days), snap.as_of + dt.timedelta(days=1))


def demand_of(
    snap: Snapshot, opp: Opportunity, start: dt.date, weight: float, duration: int
) -> Demand:
    """Hours by role from line items, else from the draft project's resource requests."""
    hours: dict[str, float] = {}
    for li in opp.line_items:
        if li.role_id:
            hours[li.role_id] = hours.get(li.role_id, 0.0) + float(li.hours)
    if not hours:
        for p in snap.projects_of(opp.id):
            if p.status != ProjectStatus.DRAFT:
                continue
            for rr in snap.requests_of(p.id):
                hours[rr.role_id] = hours.get(rr.role_id, 0.0) + float(rr.hours)
    return Demand(opp.id, opp.region_id or "", hours, duration, start, weight)


def spread_months(amount: Decimal, start: dt.date, months: int) -> dict[dt.date, Decimal]:
    first = month_start(start)
    parts = allocate(amount, [1] * months)
    return {add_months(first, i): p for i, p in enumerate(parts)}


def place_pipeline(
    snap: Snapshot, plan: CapacityPlan, probability: ProbabilityFn, opts: PipelineOptions
) -> dict[str, Placement]:
    """Resource-constrained start of every open deal, highest expected value first."""
    deals = [o for o in snap.opportunities.values() if is_open(o)]
    deals.sort(key=lambda o: (-probability(o) * o.amount.amount, o.close_date, o.id))
    out: dict[str, Placement] = {}
    for opp in deals:
        p = min(probability(opp) * opts.probability_multiplier, Decimal(1))
        duration = opp.duration_months or opts.default_duration_months
        demand = demand_of(
            snap, opp, requested_start(snap, opp, opts.start_shift_days), float(p), duration
        )
        out[opp.id] = plan.place(demand, opts.max_search_months)
    return out


def _dims(opp: Opportunity, snap: Snapshot) -> Dims:
    account = snap.accounts.get(opp.account_id)
    return Dims(
        opp.service_line_id,
        opp.region_id or (account.region_id if account else None),
        opp.legal_entity_id or (account.legal_entity_id if account else None),
    )


def _cost_rate(snap: Snapshot, role_id: str | None, currency: str) -> Decimal:
    role = snap.roles.get(role_id or "")
    if role is None or role.default_cost_rate is None:
        return ZERO
    rate = role.default_cost_rate
    return snap.fx.convert(rate.amount, rate.currency, currency, snap.as_of)


def add_pipeline(
    ledger: Ledger,
    billing: Ledger,
    snap: Snapshot,
    placements: Mapping[str, Placement],
    probability: ProbabilityFn,
    opts: PipelineOptions,
) -> None:
    """Weighted pipeline revenue and cost at each deal's placed start; pending wins as backlog."""
    pending = {o.id for o in won_without_contract(snap)}
    for opp in sorted(snap.opportunities.values(), key=lambda o: o.id):
        placement = placements.get(opp.id)
        if placement is not None:
            p = min(probability(opp) * opts.probability_multiplier, Decimal(1))
            component, start = Component.WEIGHTED_PIPELINE, placement.start
        elif opp.id in pending:
            p, component = Decimal(1), Component.UNSCHEDULED_BACKLOG
            start = requested_start(snap, opp, opts.start_shift_days)
        else:
            continue
        duration = opp.duration_months or opts.default_duration_months
        currency = opp.amount.currency
        revenue = spread_months(opp.amount.amount * p, start, duration)
        cost_total = sum(
            (li.hours * _cost_rate(snap, li.role_id, currency) for li in opp.line_items), ZERO
        )
        cost = spread_months(cost_total * p, start, duration) if cost_total else {}
        ledger.add(component, _dims(opp, snap), f"Opportunity:{opp.id}", currency, revenue, cost)
        billing.add(
            component,
            _dims(opp, snap),
            f"Opportunity:{opp.id}",
            currency,
            {add_months(m, 1): v for m, v in revenue.items()},
        )
