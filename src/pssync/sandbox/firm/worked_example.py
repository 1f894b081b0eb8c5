"""The article's worked example, planted with a stable ID so tests and demos can find it.

A 70% transformation deal wants to start on 2026-07-01, but every Solution Architect in its
region is hard-booked through July (on a planted architecture programme), so the earliest
feasible start is the first week of August and the PSA draft carries that date. The dates are
fixed to the default "today" of 2026-06-01 and shift with a different `today`.
"""

from __future__ import annotations

import datetime as dt

from pssync.sandbox.firm.capacity import FULL_DAY, CapacityPlanner, Pick
from pssync.sandbox.firm.delivery import DeliveryBuilder, demands_of, weeks_of
from pssync.sandbox.firm.reference import Reference
from pssync.sandbox.firm.units import add_months, at, monday_on_or_before, month_end
from pssync.sandbox.firm.world import STAGES, WON, AccountRec, LineItem, OppRec, StageEvent

WORKED_EXAMPLE_ID = "opp-worked-example"
WORKED_EXAMPLE_PROJECT_ID = "prj-worked-example"
BLOCKER_ID = "opp-architect-programme"
BLOCKER_PROJECT_ID = "prj-architect-programme"
REGION = "NA"
CONSTRAINED_ROLE = "SA"


def dates(today: dt.date) -> dict[str, dt.date]:
    """Key dates relative to today (2026-06-01 gives requested 2026-07-01, feasible 2026-08-03)."""
    requested = add_months(today.replace(day=1), 1)
    booked_until = month_end(requested)
    feasible = monday_on_or_before(booked_until + dt.timedelta(days=7))
    return {"requested": requested, "booked_until": booked_until, "feasible": feasible}


def _event(day: dt.date, stage_index: int, close: dt.date, hour: int = 10) -> StageEvent:
    name, prob = STAGES[stage_index] if stage_index < len(STAGES) else WON
    return StageEvent(at(day, hour), name, prob, close)


def plant_opportunities(
    ref: Reference, accounts: list[AccountRec], opps: list[OppRec]
) -> tuple[OppRec, OppRec]:
    today = ref.today
    d = dates(today)
    na = [
        a
        for a in accounts
        if a.region == REGION and a.created.date() < today - dt.timedelta(days=200)
    ]
    we_acc, blocker_acc = na[0], na[1]
    close = d["requested"] - dt.timedelta(days=5)
    we = OppRec(
        idx=len(opps),
        id=WORKED_EXAMPLE_ID,
        account=we_acc.idx,
        name=f"{we_acc.name} Finance Transformation Programme",
        service_line="TRANS",
        category_text="Transformation",
        region=REGION,
        legal_entity=we_acc.legal_entity,
        currency=we_acc.currency,
        revenue_method="milestone",
        duration_months=3,
        requested_start=d["requested"],
        owner=we_acc.owner,
        lines=[
            LineItem("SA", 420, ref.bill_cents("SA", we_acc.currency)),
            LineItem("SC", 420, ref.bill_cents("SC", we_acc.currency)),
            LineItem("PM", 280, ref.bill_cents("PM", we_acc.currency)),
        ],
    )
    we.events = [
        _event(today - dt.timedelta(days=105), 0, close),
        _event(today - dt.timedelta(days=84), 1, close),
        _event(today - dt.timedelta(days=56), 2, close),
        _event(today - dt.timedelta(days=21), 3, close),
        _event(today + dt.timedelta(days=14), 4, close),
        _event(close + dt.timedelta(days=3), 5, close + dt.timedelta(days=3)),
    ]
    start = monday_on_or_before(today - dt.timedelta(days=85))
    won_day = start - dt.timedelta(days=17)
    blocker = OppRec(
        idx=len(opps) + 1,
        id=BLOCKER_ID,
        account=blocker_acc.idx,
        name=f"{blocker_acc.name} Architecture Programme",
        service_line="ERP",
        category_text="ERP rollout",
        region=REGION,
        legal_entity=blocker_acc.legal_entity,
        currency=blocker_acc.currency,
        revenue_method="time_and_materials",
        duration_months=5,
        requested_start=start,
        owner=blocker_acc.owner,
        lines=[LineItem("SA", 0, ref.bill_cents("SA", blocker_acc.currency))],
    )
    blocker.events = [
        _event(won_day - dt.timedelta(days=100), 0, won_day),
        _event(won_day - dt.timedelta(days=80), 1, won_day),
        _event(won_day - dt.timedelta(days=60), 2, won_day),
        _event(won_day - dt.timedelta(days=30), 3, won_day),
        _event(won_day - dt.timedelta(days=14), 4, won_day),
        _event(won_day, 5, won_day),
    ]
    opps += [we, blocker]
    return we, blocker


def reserve(planner: CapacityPlanner, ref: Reference, we: OppRec) -> list[Pick]:
    """Hold the worked example's people from the feasible week on, before anyone else books."""
    week = planner.week_index(dates(ref.today)["feasible"])
    weeks = weeks_of(we)
    picks = planner._try(REGION, demands_of(we), week, weeks, force=False, remote=True)
    if picks is None:
        raise RuntimeError("worked example cannot be staffed; the firm is too small")
    for p in picks:
        # Hold the whole day, not just the need, so the region has visible free capacity from
        # August in any capacity model (pooled or per person) once July's bookings end.
        planner.load[p.person, week : week + weeks] -= p.daily_halves
        planner.add(p.person, week, weeks, FULL_DAY, reserve=True)
    return picks


def finish(builder: DeliveryBuilder, we: OppRec, blocker: OppRec, picks: list[Pick]) -> None:
    """Book every regional architect solid through July on the blocker; draft the example."""
    planner, ref = builder.planner, builder.ref
    d = dates(ref.today)
    first = blocker.requested_start
    last = monday_on_or_before(d["booked_until"])
    weeks = (last - first).days // 7 + 1
    project = builder.new_project(blocker, first, weeks, blocker.outcome().at, BLOCKER_PROJECT_ID)
    w0 = planner.week_index(first)
    total_halves = 0
    for person in planner.candidates(REGION, CONSTRAINED_ROLE):
        free = [
            FULL_DAY - int(planner.load[person, w] + planner.reserved[person, w])
            for w in range(w0, w0 + weeks)
        ]
        run_start = 0
        for i in range(1, weeks + 1):
            if i < weeks and free[i] == free[run_start]:
                continue
            if free[run_start] > 0:
                start = planner.week_start(w0 + run_start)
                end = planner.week_start(w0 + i - 1) + dt.timedelta(days=4)
                planner.add(person, w0 + run_start, i - run_start, free[run_start])
                a = builder.add_assignment(
                    project,
                    Pick(CONSTRAINED_ROLE, person, free[run_start]),
                    start,
                    end,
                    True,
                    project.won_at or project.draft_at,
                )
                total_halves += a.total_halves
            run_start = i
    blocker.lines[0].hours = max(1, total_halves // 2)
    project.wbs = builder._wbs(project, blocker, weeks)
    draft = builder.new_project(we, d["feasible"], weeks_of(we), None, WORKED_EXAMPLE_PROJECT_ID)
    for p in picks:
        builder.add_assignment(
            draft, p, draft.planned_start, draft.planned_end, False, draft.draft_at
        )
