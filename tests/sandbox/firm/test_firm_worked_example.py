"""The article's worked example: sales wants July, architects are booked, delivery says August."""

from __future__ import annotations

import datetime as dt

from pssync.sandbox.firm import Firm
from pssync.sandbox.firm.capacity import FULL_DAY
from pssync.sandbox.firm.units import monday_on_or_before

REQUESTED = dt.date(2026, 7, 1)
FEASIBLE = dt.date(2026, 8, 3)


def _hard_load(firm: Firm, person: int, monday: dt.date) -> int:
    return sum(
        a.daily_halves
        for a in firm.assignments
        if a.person == person and a.hard and a.start <= monday <= a.end
    )


def _earliest_start(
    firm: Firm, region: str, role: str, need: int, weeks: int, after: dt.date
) -> dt.date:
    """First Monday at or after `after` when someone in the region has `need` free for `weeks`."""
    people = [p.idx for p in firm.people if p.region == region and p.role == role]
    monday = monday_on_or_before(after + dt.timedelta(days=6))
    while True:
        span = [monday + dt.timedelta(weeks=w) for w in range(weeks)]
        if any(all(FULL_DAY - _hard_load(firm, p, m) >= need for m in span) for p in people):
            return monday
        monday += dt.timedelta(weeks=1)


def test_crm_shows_a_70_percent_deal_asking_for_july(firm: Firm) -> None:
    row = firm.view_record("salesforce", "Opportunity", "opp-worked-example")
    assert row is not None
    assert row["Probability"] == 70 and row["StageName"] == "Proposal" and not row["IsClosed"]
    assert row["Requested_Start__c"] == REQUESTED.isoformat()
    assert row["Delivery_Start__c"] is None
    assert "Transformation" in row["Name"]


def test_regional_architects_are_hard_booked_through_july(firm: Firm) -> None:
    architects = [p for p in firm.people if p.region == "NA" and p.role == "SA"]
    assert architects
    monday = monday_on_or_before(firm.today)
    while monday <= dt.date(2026, 7, 27):
        for p in architects:
            assert _hard_load(firm, p.idx, monday) >= FULL_DAY, (p.id, monday)
        monday += dt.timedelta(weeks=1)


def test_earliest_feasible_start_is_in_august(firm: Firm) -> None:
    opp = firm.opportunity("opp-worked-example")
    sa = next(
        a
        for a in firm.assignments
        if firm.projects[a.project].id == "prj-worked-example" and a.role == "SA"
    )
    weeks = ((sa.end - sa.start).days + 3) // 7
    start = _earliest_start(firm, "NA", "SA", sa.daily_halves, weeks, opp.requested_start)
    assert start == FEASIBLE


def test_psa_draft_carries_the_august_date(firm: Firm) -> None:
    ws = firm.view_record("kantata", "workspaces", "prj-worked-example")
    assert ws is not None
    assert ws["start_date"] == FEASIBLE.isoformat()
    assert ws["status"]["message"] == "Estimate"
    allocations = [
        r for r in firm.views["kantata"]["workspace_allocations"] if r["workspace_id"] == ws["id"]
    ]
    assert allocations and not any(r["hard"] for r in allocations)
    facts = [
        f
        for f in firm.iter_facts()
        if f.entity_type == "Project" and f.payload["id"] == "prj-worked-example"
    ]
    assert facts and facts[-1].payload["planned_start"] == FEASIBLE.isoformat()
    assert facts[-1].payload["status"] == "draft"


def test_worked_example_is_milestone_billed_once_won(firm: Firm) -> None:
    opp = firm.opportunity("opp-worked-example")
    assert opp.revenue_method == "milestone"
    assert opp.outcome().is_won and opp.outcome().at.date() > firm.today
