"""Delivery: won deals become staffed projects, open late-stage deals become PSA drafts.

Projects are staffed in the order deals were won, so later wins find architects already booked
and start late; fixed-fee projects get an effort overrun that only shows in the time logged.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from pssync.sandbox.firm.capacity import CapacityPlanner, Demand, Pick
from pssync.sandbox.firm.reference import Reference
from pssync.sandbox.firm.units import at
from pssync.sandbox.firm.world import PROPOSAL_INDEX, STAGES, Assignment, OppRec, ProjectRec, Wbs

MAX_PERSON_HALVES = 14  # nobody is planned above 7 hours a day on one project
PHASES = {
    "long": ("Discover", "Design", "Build", "Deploy"),
    "short": ("Plan", "Deliver"),
    "retainer": ("Service period",),
}


def weeks_of(opp: OppRec) -> int:
    return max(2, round(opp.duration_months * 4.33))


def demands_of(opp: OppRec) -> list[Demand]:
    weeks = weeks_of(opp)
    out = []
    for li in opp.lines:
        total = max(1, math.ceil(li.hours * 2 / (weeks * 5)))
        people = max(1, math.ceil(total / MAX_PERSON_HALVES))
        out.append(Demand(li.role, math.ceil(total / people), people))
    return out


def proposal_time(opp: OppRec) -> dt.datetime:
    stage = STAGES[PROPOSAL_INDEX][0]
    return next((e.at for e in opp.events if e.stage == stage), opp.events[-1].at)


class DeliveryBuilder:
    """Turns deals into projects and assignments against one shared capacity planner."""

    def __init__(self, ref: Reference, planner: CapacityPlanner, seed: int) -> None:
        self.ref = ref
        self.planner = planner
        self.rng = random.Random(f"delivery:{seed}")
        self.projects: list[ProjectRec] = []
        self.assignments: list[Assignment] = []

    def new_project(
        self,
        opp: OppRec,
        start: dt.date,
        weeks: int,
        won_at: dt.datetime | None,
        pid: str | None = None,
    ) -> ProjectRec:
        n = len(self.projects) + 1
        end = start + dt.timedelta(weeks=weeks, days=-3)
        project = ProjectRec(
            idx=len(self.projects),
            id=pid or f"prj-{n:05d}",
            opp=opp.idx,
            account=opp.account,
            name=opp.name,
            service_line=opp.service_line,
            region=opp.region,
            legal_entity=opp.legal_entity,
            currency=opp.currency,
            revenue_method=opp.revenue_method,
            requested_start=opp.requested_start,
            planned_start=start,
            planned_end=end,
            draft_at=proposal_time(opp),
            won_at=won_at,
            code=f"PRJ-{opp.legal_entity}-{n:05d}",
        )
        if opp.revenue_method == "fixed_fee":
            project.overrun_pct = self.rng.choice((0, 0, 5, 10, 15, 20, 30, 40))
        project.wbs = self._wbs(project, opp, weeks)
        opp.project = project.idx
        opp.delivery_start = start
        self.projects.append(project)
        return project

    def _wbs(self, project: ProjectRec, opp: OppRec, weeks: int) -> list[Wbs]:
        kind = (
            "retainer" if opp.revenue_method == "retainer" else ("long" if weeks >= 8 else "short")
        )
        names = PHASES[kind]
        total = sum(li.hours for li in opp.lines)
        cuts = [round(weeks * i / len(names)) for i in range(len(names) + 1)]
        hours = [total * (cuts[i + 1] - cuts[i]) // weeks for i in range(len(names))]
        hours[-1] += total - sum(hours)
        out = []
        for i, name in enumerate(names):
            start = project.planned_start + dt.timedelta(weeks=cuts[i])
            end = project.planned_start + dt.timedelta(weeks=cuts[i + 1], days=-3)
            out.append(
                Wbs(
                    f"wbs-{project.id[4:]}-{i + 1}",
                    f"{project.code}.{i + 1}",
                    name,
                    start,
                    end,
                    hours[i],
                )
            )
        return out

    def add_assignment(
        self,
        project: ProjectRec,
        pick: Pick,
        start: dt.date,
        end: dt.date,
        hard: bool,
        created: dt.datetime,
    ) -> Assignment:
        person = self.planner.people[pick.person]
        cal = self.ref.calendars[person.region]
        assignment = Assignment(
            idx=len(self.assignments),
            id=f"asg-{len(self.assignments) + 1:06d}",
            project=project.idx,
            person=pick.person,
            role=pick.role,
            start=start,
            end=end,
            daily_halves=pick.daily_halves,
            hard=hard,
            created=created,
            bill_cents=self.ref.bill_cents(pick.role, project.currency),
            cost_cents=self.ref.cost_cents(pick.role, project.currency),
            total_halves=pick.daily_halves * cal.count(start, end),
        )
        self.assignments.append(assignment)
        project.assignments.append(assignment.idx)
        return assignment

    def staff_won(self, opp: OppRec) -> ProjectRec:
        won = opp.outcome()
        weeks = weeks_of(opp)
        earliest = max(opp.requested_start, won.at.date() + dt.timedelta(days=7))
        week, picks = self.planner.book(
            opp.region, demands_of(opp), earliest, weeks, self.ref.params.max_start_delay_weeks
        )
        start = self.planner.week_start(week)
        project = self.new_project(opp, start, weeks, won.at)
        created = won.at + dt.timedelta(days=self.rng.randint(1, 3))
        for pick in picks:
            self.add_assignment(project, pick, start, project.planned_end, True, created)
        return project

    def draft(self, opp: OppRec) -> ProjectRec:
        """A PSA draft for an open deal: soft bookings at the earliest feasible start."""
        weeks = weeks_of(opp)
        earliest = max(opp.requested_start, self.ref.today + dt.timedelta(days=14))
        week, picks = self.planner.book(
            opp.region, demands_of(opp), earliest, weeks, self.ref.params.max_start_delay_weeks
        )
        for p in picks:
            self.planner.load[p.person, week : week + weeks] -= p.daily_halves
        start = self.planner.week_start(week)
        project = self.new_project(opp, start, weeks, None)
        for pick in picks:
            self.add_assignment(project, pick, start, project.planned_end, False, project.draft_at)
        return project


def schedule(builder: DeliveryBuilder, opps: list[OppRec], skip: set[str]) -> None:
    """Staff every deal won before today in win order, then draft the open late-stage ones."""
    cutoff = at(builder.ref.today)
    won = [o for o in opps if o.id not in skip and o.outcome().is_won and o.outcome().at < cutoff]
    won.sort(key=lambda o: (o.outcome().at, o.idx))
    for opp in won:
        builder.staff_won(opp)
    for opp in opps:
        state = opp.state_at(cutoff)
        if opp.id in skip or state is None or state.is_closed:
            continue
        if state.probability >= STAGES[PROPOSAL_INDEX][1] and not opp.stale:
            builder.draft(opp)
