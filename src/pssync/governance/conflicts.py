"""Resource plan conflicts: over-allocation beyond capacity, and starts before capacity exists.

Both questions are answered with the forecast's `CapacityPlan` (daily capacity per role and
region from each person's weekly hours, their region's working days and holidays, and their
employment dates; bookings spread over working days), so delivery, the forecast and the
exception queue agree on what "free" means:

* over-allocation: a person — or a role in a region — booked for more hours in a month than
  their calendar gives them;
* start before capacity: a deal or draft project asks for a start before the roles it needs
  have free hours; the earliest feasible start is what the resource-feedback flow reports.

Conflicts are raised as `resource_conflict` exceptions for resource managers and resolved
automatically once the plan no longer has them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pssync.engine.ports import ExceptionSink
from pssync.governance.exceptions import ACTIVE, NewException
from pssync.model import Assignment, Region, Resource
from pssync.planning.capacity import CapacityPlan, Demand
from pssync.planning.periods import add_months, month_start
from pssync.store import GoldenStore

_TOLERANCE = 0.5  # hours: rounding of spread bookings is not a conflict


@dataclass(frozen=True)
class Conflict:
    """One conflict, in words a resource manager acts on."""

    kind: str  # over_allocation | start_before_capacity
    record_id: str  # the resource, role@region or deal concerned
    role_id: str
    region_id: str
    month: dt.date
    needed_hours: float
    free_hours: float
    message: str
    earliest_start: dt.date | None = None
    roles: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class PlanInputs:
    """The golden store's regions, people and bookings, parsed once."""

    regions: dict[str, Region]
    resources: list[Resource]
    assignments: list[Assignment]

    @classmethod
    def load(cls, store: GoldenStore, *, exclude_projects: Iterable[str] = ()) -> PlanInputs:
        skip = set(exclude_projects)
        regions = {
            v.record_id: Region.model_validate(v.payload) for v in store.iter_records("Region")
        }
        resources = [Resource.model_validate(v.payload) for v in store.iter_records("Resource")]
        assignments = [
            a
            for a in (
                Assignment.model_validate(v.payload) for v in store.iter_records("Assignment")
            )
            if a.project_id not in skip
        ]
        return cls(regions, resources, assignments)

    def plan(self, first: dt.date, months: int, *, include_soft: bool) -> CapacityPlan:
        last = add_months(month_start(first), months) - dt.timedelta(days=1)
        return CapacityPlan(
            month_start(first),
            last,
            self.regions,
            self.resources,
            self.assignments,
            include_soft=include_soft,
        )


def demand_of(opportunity: Mapping[str, Any]) -> Demand | None:
    """The hours by role a deal needs over its duration, from its line items."""
    hours: dict[str, float] = defaultdict(float)
    for item in opportunity.get("line_items") or []:
        if item.get("role_id"):
            hours[str(item["role_id"])] += float(item["hours"])
    start = opportunity.get("requested_start") or opportunity.get("close_date")
    region = opportunity.get("region_id")
    if not hours or not start or not region:
        return None
    return Demand(
        deal_id=str(opportunity["id"]),
        region_id=str(region),
        hours_by_role=dict(hours),
        duration_months=int(opportunity.get("duration_months") or 3),
        requested_start=dt.date.fromisoformat(str(start)),
    )


def start_conflict(inputs: PlanInputs, demand: Demand) -> Conflict | None:
    """A conflict when the deal's requested start is before its roles have capacity."""
    plan = inputs.plan(demand.requested_start, demand.duration_months + 24, include_soft=False)
    placement = plan.place(demand)
    if placement.feasible and placement.start <= demand.requested_start:
        return None
    month = plan.first  # the requested month
    short: list[tuple[str, float, float]] = []
    for role, hours in sorted(demand.hours_by_role.items()):
        needed = hours / demand.duration_months
        free = float(plan.free_by_month((role, demand.region_id))[0])
        if free + _TOLERANCE < needed:
            short.append((role, needed, free))
    roles = tuple(r for r, _, _ in short) or placement.binding_roles
    role, needed, free = short[0] if short else (roles[0] if roles else "", 0.0, 0.0)
    earliest = placement.start if placement.feasible else None
    when = f"the earliest start with capacity is {earliest}" if earliest else "no start fits"
    return Conflict(
        "start_before_capacity",
        demand.deal_id,
        role,
        demand.region_id,
        month,
        needed,
        free,
        f"{demand.deal_id} asks to start {demand.requested_start} but {', '.join(roles)} in "
        f"{demand.region_id} have {free:.0f} free hours that month against {needed:.0f} "
        f"needed; {when}",
        earliest,
        roles,
    )


def over_allocations(inputs: PlanInputs, first: dt.date, months: int = 6) -> list[Conflict]:
    """People and roles booked beyond their capacity in any month of the window."""
    found: list[Conflict] = []
    plan = inputs.plan(first, months, include_soft=True)
    by_person: dict[str, list[Assignment]] = defaultdict(list)
    for a in inputs.assignments:
        by_person[a.resource_id].append(a)
    for res in inputs.resources:
        booked = by_person.get(res.id)
        if not booked:
            continue
        own = CapacityPlan(
            plan.first,
            plan.first + dt.timedelta(days=plan.days - 1),
            inputs.regions,
            [res],
            booked,
            include_soft=True,
        )
        key = (res.role_id, res.region_id)
        found += _months_over(own, key, res.id, f"{res.name} ({res.id})")
    for key in sorted(plan.booked):
        found += _months_over(plan, key, f"{key[0]}@{key[1]}", f"role {key[0]} in {key[1]}")
    return found


def _months_over(
    plan: CapacityPlan, key: tuple[str, str], record_id: str, who: str
) -> list[Conflict]:
    capacity = plan.monthly(plan.capacity[key])
    booked = plan.monthly(plan.booked[key])
    out = []
    for index, (cap, used) in enumerate(zip(capacity, booked, strict=True)):
        if used > cap + _TOLERANCE:
            month = add_months(plan.first, index)
            out.append(
                Conflict(
                    "over_allocation",
                    record_id,
                    key[0],
                    key[1],
                    month,
                    float(used),
                    float(cap),
                    f"{who} is booked {used:.0f}h in {month:%Y-%m} against {cap:.0f}h of "
                    "capacity (calendar and holidays included)",
                )
            )
    return out


def raise_conflicts(
    exceptions: ExceptionSink, conflicts: list[Conflict], entity_type: str = "Opportunity"
) -> list[str]:
    """One `resource_conflict` exception per conflict (refreshed while it persists)."""
    raised = []
    for c in conflicts:
        new = NewException(
            category="resource_conflict",
            message=c.message,
            entity_type=entity_type if c.kind == "start_before_capacity" else "Resource",
            record_id=c.record_id,
            region_id=c.region_id,
            details={
                "field": f"{c.kind}:{c.role_id}:{c.month:%Y-%m}",
                "kind": c.kind,
                "role_id": c.role_id,
                "needed_hours": round(c.needed_hours, 1),
                "free_hours": round(c.free_hours, 1),
                "earliest_start": c.earliest_start.isoformat() if c.earliest_start else None,
                "roles": list(c.roles),
            },
        )
        raised.append(exceptions.raise_(new, actor="governance").id)
    return raised


def resolve_conflicts(exceptions: ExceptionSink, record_id: str, note: str) -> int:
    """Resolve the active conflicts of one deal or resource (the plan no longer has them)."""
    active = [
        e
        for e in exceptions.find(states=[s.value for s in ACTIVE], category="resource_conflict")
        if e.record_id == record_id
    ]
    for exc in active:
        exceptions.resolve(exc.id, f"auto-resolved: {note}", "governance")
    return len(active)


def check_start(
    store: GoldenStore,
    exceptions: ExceptionSink,
    opportunity: Mapping[str, Any],
    exclude_projects: Iterable[str] = (),
) -> Conflict | None:
    """Raise the deal's start-before-capacity conflict, or resolve it when it is gone.
    `exclude_projects`: the deal's own draft, whose tentative bookings are not competition."""
    demand = demand_of(opportunity)
    if demand is None:
        return None
    conflict = start_conflict(PlanInputs.load(store, exclude_projects=exclude_projects), demand)
    if conflict is None:
        resolve_conflicts(exceptions, demand.deal_id, "the roles have capacity")
    else:
        raise_conflicts(exceptions, [conflict])
    return conflict
