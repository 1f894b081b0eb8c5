"""Capacity placement: the vectorised search agrees with a plain, one-candidate-at-a-time scan.

`CapacityPlan.place` tests every candidate start at once with numpy; the reference below is
the rule written out directly (dates, masks, one role and month at a time). Random plans with
partial first and last months, several calendars, windows that run outside the plan, roles
without capacity and deals without roles must give the same starts, feasibility, binding
roles and remaining bookings, deal after deal.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import numpy as np
import pytest

from pssync.model import Assignment, BookingType, Money, Region, Resource
from pssync.planning.capacity import CapacityPlan, Demand
from pssync.planning.periods import add_months, month_start, months_between

ROLES = ("role-a", "role-b", "role-c", "role-x")  # nobody has role-x: never any capacity
REGIONS = {
    "reg-us": Region(id="reg-us", code="US", name="US", holidays=[dt.date(2026, 7, 3)]),
    "reg-four": Region(id="reg-four", code="F", name="Four", working_weekdays=[0, 1, 2, 3]),
}


def _reference(
    plan: CapacityPlan, demand: Demand, max_months: int
) -> tuple[dt.date, bool, tuple[str, ...]]:
    """(start, feasible, binding roles) by scanning candidates in order, as the rule reads."""
    last = plan.first + dt.timedelta(days=plan.days - 1)
    working = plan.working(demand.region_id)
    starts = [demand.requested_start] + [
        add_months(demand.requested_start, k) for k in range(1, max_months + 1)
    ]
    binding: set[str] = set()
    for start in starts:
        end = add_months(month_start(start), demand.duration_months) - dt.timedelta(days=1)
        if start < plan.first or end > last:
            short = set(demand.hours_by_role)
        else:
            lo, hi = (start - plan.first).days, (end - plan.first).days + 1
            total = int(working[lo:hi].sum())
            per_day = 1.0 / (total or 1.0)
            short = set()
            for role, hours in demand.hours_by_role.items():
                free = plan.free_by_month((role, demand.region_id))
                for k in range(demand.duration_months):
                    month = add_months(month_start(start), k)
                    a = max((month - plan.first).days, lo)
                    b = min((add_months(month, 1) - plan.first).days, hi)
                    need = int(working[a:b].sum()) * (hours * per_day)
                    index = months_between(plan.first, month)
                    if need > 0 and need - free[index] > 1e-6:
                        short.add(role)
        if not short:
            return start, True, ()
        binding |= short
    return demand.requested_start, False, tuple(sorted(binding))


def _plan(rng: random.Random) -> CapacityPlan:
    first = dt.date(2026, 3, 1) + dt.timedelta(days=rng.randrange(40))
    last = first + dt.timedelta(days=rng.randrange(200, 700))
    resources = [
        Resource(
            id=f"res-{i}",
            name=f"R{i}",
            role_id=rng.choice(ROLES[:3]),
            region_id=rng.choice(list(REGIONS)),
            weekly_capacity_hours=Decimal(rng.choice([20, 32, 40])),
            cost_rate=Money(amount=Decimal(100), currency="USD"),
        )
        for i in range(8)
    ]
    bookings = []
    for i in range(10):
        start = first + dt.timedelta(days=rng.randrange(-30, 300))
        bookings.append(
            Assignment(
                id=f"asg-{i}",
                project_id="prj",
                resource_id=rng.choice(resources).id,
                booking_type=rng.choice([BookingType.HARD, BookingType.SOFT]),
                start_date=start,
                end_date=start + dt.timedelta(days=rng.randrange(10, 120)),
                hours=Decimal(rng.randrange(20, 600)),
            )
        )
    return CapacityPlan(first, last, REGIONS, resources, bookings)


def _demand(rng: random.Random, plan: CapacityPlan, i: int) -> Demand:
    roles = rng.sample(ROLES, rng.randrange(len(ROLES) + 1))
    return Demand(
        deal_id=f"deal-{i}",
        region_id=rng.choice([*REGIONS, "reg-unknown"]),
        hours_by_role={r: float(rng.randrange(0, 900)) for r in roles},
        duration_months=rng.randrange(1, 7),
        requested_start=plan.first + dt.timedelta(days=rng.randrange(-45, plan.days)),
        weight=rng.random(),
    )


def test_vectorised_placement_matches_the_one_by_one_scan() -> None:
    outcomes = set()
    for seed in range(12):
        rng = random.Random(seed)
        plan = _plan(rng)
        for i in range(60):
            demand = _demand(rng, plan, i)
            max_months = rng.choice([0, 3, 24])
            start, feasible, binding = _reference(plan, demand, max_months)
            placed = plan.place(demand, max_months)
            got = (placed.start, placed.feasible, placed.binding_roles)
            assert got == (start, feasible, binding), (seed, demand)
            outcomes.add((feasible, placed.months_moved > 0))
    # the random plans reach every branch: on time, moved, and nowhere to go
    assert {(True, False), (True, True), (False, False)} <= outcomes


def test_reservation_books_weighted_hours_over_the_window_working_days() -> None:
    rng = random.Random(99)
    plan = _plan(rng)
    before = {k: v.copy() for k, v in plan.booked.items()}
    demand = Demand("d", "reg-four", {"role-x": 0.0, "role-a": 150.0}, 2, plan.first, 0.5)
    placed = plan.place(demand)
    if not placed.feasible:  # role-a short everywhere in this plan: nothing reserved
        assert all(np.array_equal(before[k], plan.booked[k]) for k in before)
        return
    end = add_months(month_start(placed.start), 2) - dt.timedelta(days=1)
    added = plan.booked[("role-a", "reg-four")] - before.get(("role-a", "reg-four"), 0.0)
    assert added.sum() == pytest.approx(75.0)
    lo, hi = (placed.start - plan.first).days, (end - plan.first).days + 1
    assert not added[:lo].any() and not added[hi:].any()
