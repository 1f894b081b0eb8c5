"""Won work delivered: start when people are free, hours that drift from what was sold.

Each won deal becomes a job. Its weekly pace per role is what was sold over the sold duration;
how long it really runs depends on its method: T&M burns `tm_burn` of its hours (more or
less), fixed fee overruns its baseline by `ff_overrun`, retainers run a year. Hours actually
logged dip with holidays and the summer and year-end lulls. People are named per role in
rotation; bookings cover the job in four-week blocks, each made `booking_lead_weeks` before
it starts (never before the project exists).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from pssync.sandbox.worlds.market import Deal
from pssync.sandbox.worlds.staffing import PRODUCTIVE, Capacity, Person, Weeks
from pssync.sandbox.worlds.traits import WorldTraits

BLOCK_WEEKS = 4


@dataclass
class Booking:
    person: Person
    start: dt.date
    end: dt.date
    hours: float
    made: dt.date


@dataclass
class Job:
    deal: Deal
    won: dt.date
    contract_at: dt.date  # the ERP contract line appears
    requested: dt.date
    start: dt.date
    planned_weeks: int
    actual_weeks: int
    pace: dict[str, float]
    stale_erp: bool
    staff: dict[str, list[Person]] = field(default_factory=dict)
    entries: list[tuple[dt.date, Person, float]] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)

    @property
    def idx(self) -> int:
        return self.deal.idx

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=7 * self.actual_weeks - 3)

    @property
    def planned_end(self) -> dt.date:
        return self.start + dt.timedelta(days=7 * self.planned_weeks - 3)

    @property
    def erp_end(self) -> dt.date:
        return self.requested + dt.timedelta(days=7 * self.planned_weeks - 3)

    @property
    def created(self) -> dt.date:  # the PSA project
        return self.won + dt.timedelta(days=2)

    def hours_logged(self) -> float:
        return sum(h for _, _, h in self.entries)


def _factor(rng: random.Random, traits: WorldTraits, method: str) -> float:
    if method == "time_and_materials":
        return min(1.8, max(0.4, rng.gauss(traits.tm_burn, 0.12)))
    if method == "fixed_fee":
        return max(0.9, traits.ff_overrun * rng.lognormvariate(0, 0.1))
    if method == "milestone":
        return max(0.8, rng.gauss(1.05, 0.1))
    return 1.0


def _monday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def plan_jobs(traits: WorldTraits, wins: list[Deal]) -> list[Job]:
    """Jobs with their sold pace and real length, not yet placed on the calendar."""
    rng = random.Random(f"worlds:{traits.seed}:jobs")
    jobs = []
    for deal in wins:
        assert deal.decided is not None
        won = deal.events[-1].at
        contract_at = won + dt.timedelta(days=7 * traits.handoff_weeks + rng.randint(1, 4))
        requested = _monday(contract_at + dt.timedelta(days=7 * rng.randint(0, 2)))
        planned = 52 if deal.method == "retainer" else max(2, round(deal.duration_months * 4.345))
        factor = _factor(rng, traits, deal.method)
        actual = planned if deal.method == "retainer" else max(1, round(planned * factor))
        pace = {role: h / planned for role, h in deal.hours.items()}
        stale = rng.random() < traits.erp_stale
        jobs.append(Job(deal, won, contract_at, requested, requested, planned, actual, pace, stale))
    return jobs


def demand(weeks: Weeks, jobs: list[Job]) -> dict[str, list[float]]:
    """Hours per role and week the jobs would take if each started when requested."""
    out: dict[str, list[float]] = {}
    for job in jobs:
        s = weeks.index(job.requested)
        for role, hours in job.pace.items():
            series = out.setdefault(role, [0.0] * weeks.n)
            for i in range(s, min(s + job.actual_weeks, weeks.n)):
                series[i] += hours
    return out


def deliver(
    traits: WorldTraits, weeks: Weeks, capacity: Capacity, people: list[Person], jobs: list[Job]
) -> None:
    """Place every job, staff it, log its hours and make its bookings."""
    rng = random.Random(f"worlds:{traits.seed}:delivery")
    by_role: dict[str, list[Person]] = {}
    for p in people:
        by_role.setdefault(p.role, []).append(p)
    turn: dict[str, int] = {}
    for job in sorted(jobs, key=lambda j: (j.won, j.idx)):
        wait = job.deal.method != "retainer"
        s = capacity.place(job.pace, weeks.index(job.requested), job.actual_weeks, wait)
        job.start = max(job.requested, weeks.day(s))
        for role, pace in job.pace.items():
            pool = [p for p in by_role.get(role, []) if p.active(job.start)] or by_role[role][:1]
            n = min(len(pool), max(1, math.ceil(pace / PRODUCTIVE)))
            k = turn.get(role, 0)
            job.staff[role] = [pool[(k + i) % len(pool)] for i in range(n)]
            turn[role] = k + n
        _log(rng, weeks, job)
        _book(traits, job)


def _log(rng: random.Random, weeks: Weeks, job: Job) -> None:
    """Two entries a week (Tuesday, Thursday) per person, each at most a day and a half."""
    first = weeks.index(job.start)
    for w in range(first, min(first + job.actual_weeks, weeks.n)):
        monday = weeks.day(w)
        for role, pace in job.pace.items():
            staff = job.staff[role]
            hours = pace * weeks.avail[w] * rng.uniform(0.88, 1.08) / len(staff)
            half = round(min(hours, 44.0) / 2, 1)
            if half <= 0:
                continue
            for person in staff:
                for offset in (1, 3):
                    job.entries.append((monday + dt.timedelta(days=offset), person, half))


def _book(traits: WorldTraits, job: Job) -> None:
    """Hard bookings of the sold pace in four-week blocks, made `booking_lead_weeks` ahead."""
    lead = dt.timedelta(days=7 * traits.booking_lead_weeks)
    b = 0
    while b < job.actual_weeks:
        n = min(BLOCK_WEEKS, job.actual_weeks - b)
        start = job.start + dt.timedelta(days=7 * b)
        end = start + dt.timedelta(days=7 * n - 3)
        for role, pace in job.pace.items():
            staff = job.staff[role]
            for person in staff:
                hours = round(pace * n / len(staff), 1)
                made = max(job.created, start - lead)
                job.bookings.append(Booking(person, start, end, hours, made))
        b += n
