"""Resource plan conflicts on a tiny, hand-made plan: one region with a July holiday, two
architects, one consultant. Hours per working day are 8 (40-hour weeks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pssync.governance.conflicts import (
    PlanInputs,
    check_start,
    demand_of,
    over_allocations,
    start_conflict,
)
from pssync.governance.exceptions import ExceptionStore
from pssync.model import parse_record
from pssync.store import Change, GoldenStore

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
USD = {"amount": "100.00", "currency": "USD"}


def _put(store: GoldenStore, entity_type: str, payload: dict[str, Any]) -> None:
    store.write([Change(parse_record(entity_type, payload), AT, "test")])


@pytest.fixture
def plan(store: GoldenStore) -> GoldenStore:
    _put(
        store,
        "Region",
        {"id": "reg-na", "code": "NA", "name": "North America", "holidays": ["2026-07-03"]},
    )
    for rid, role in (("res-a1", "role-sa"), ("res-a2", "role-sa"), ("res-c1", "role-con")):
        _put(
            store,
            "Resource",
            {"id": rid, "name": rid, "role_id": role, "region_id": "reg-na", "cost_rate": USD},
        )
    # Both architects fully booked through July on another programme.
    for rid in ("res-a1", "res-a2"):
        _put(
            store,
            "Assignment",
            {
                "id": f"asg-{rid}",
                "project_id": "prj-other",
                "resource_id": rid,
                "role_id": "role-sa",
                "start_date": "2026-07-01",
                "end_date": "2026-07-31",
                "hours": "176",  # 22 working days in July 2026 (3 July is a holiday)
            },
        )
    return store


def deal(start: str = "2026-07-01", sa_hours: str = "300") -> dict[str, Any]:
    return {
        "id": "opp-x",
        "region_id": "reg-na",
        "requested_start": start,
        "duration_months": 2,
        "line_items": [
            {"id": "li-1", "role_id": "role-sa", "hours": sa_hours, "rate": USD},
            {"id": "li-2", "role_id": "role-con", "hours": "100", "rate": USD},
        ],
    }


def test_a_start_before_the_architects_are_free_is_a_conflict(plan: GoldenStore) -> None:
    demand = demand_of(deal())
    assert demand is not None and demand.hours_by_role == {"role-sa": 300.0, "role-con": 100.0}
    conflict = start_conflict(PlanInputs.load(plan), demand)
    assert conflict is not None
    assert conflict.kind == "start_before_capacity"
    assert conflict.roles == ("role-sa",)  # the consultant is free
    assert conflict.earliest_start == dt.date(2026, 8, 1)
    assert conflict.free_hours == pytest.approx(0.0, abs=0.5)
    assert conflict.needed_hours == 150.0
    assert "role-sa" in conflict.message and "2026-08-01" in conflict.message


def test_no_conflict_once_the_start_is_after_the_booking(plan: GoldenStore) -> None:
    demand = demand_of(deal(start="2026-08-01"))
    assert demand is not None
    assert start_conflict(PlanInputs.load(plan), demand) is None


def test_the_deals_own_draft_bookings_are_not_competition(plan: GoldenStore) -> None:
    demand = demand_of(deal(start="2026-08-01"))
    assert demand is not None
    for rid in ("res-a1", "res-a2"):
        _put(
            plan,
            "Assignment",
            {
                "id": f"asg-draft-{rid}",
                "project_id": "prj-x",
                "resource_id": rid,
                "start_date": "2026-08-03",
                "end_date": "2026-09-30",
                "hours": "300",
            },
        )
    assert start_conflict(PlanInputs.load(plan), demand) is not None
    assert start_conflict(PlanInputs.load(plan, exclude_projects=["prj-x"]), demand) is None


def test_over_allocation_counts_the_calendar_and_holidays(plan: GoldenStore) -> None:
    assert over_allocations(PlanInputs.load(plan), dt.date(2026, 7, 1), 2) == []
    # One more hour than July's 22 working days (the 3rd is a holiday) allow.
    _put(
        plan,
        "Assignment",
        {
            "id": "asg-extra",
            "project_id": "prj-third",
            "resource_id": "res-a1",
            "start_date": "2026-07-06",
            "end_date": "2026-07-06",
            "hours": "8",
        },
    )
    found = over_allocations(PlanInputs.load(plan), dt.date(2026, 7, 1), 2)
    person = [c for c in found if c.record_id == "res-a1"]
    role = [c for c in found if c.record_id == "role-sa@reg-na"]
    assert len(person) == 1 and len(role) == 1
    assert person[0].month == dt.date(2026, 7, 1)
    assert person[0].free_hours == pytest.approx(176.0)
    assert person[0].needed_hours == pytest.approx(184.0)
    assert not [c for c in found if c.record_id == "res-a2"]


def test_check_start_raises_for_resource_managers_then_resolves(plan: GoldenStore) -> None:
    exceptions = ExceptionStore(plan.engine)
    assert check_start(plan, exceptions, deal()) is not None
    (raised,) = exceptions.find(category="resource_conflict", states=["open"])
    assert raised.record_id == "opp-x" and raised.details["earliest_start"] == "2026-08-01"
    assert check_start(plan, exceptions, deal()) is not None  # refreshed, not duplicated
    assert len(exceptions.find(category="resource_conflict")) == 1
    assert check_start(plan, exceptions, deal(start="2026-08-01")) is None
    assert exceptions.find(category="resource_conflict", states=["open"]) == []
