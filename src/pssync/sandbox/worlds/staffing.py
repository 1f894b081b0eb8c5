"""People and capacity: headcount that follows demand with a hiring lag, and a queue.

Headcount per role follows the hours won work asked for `hiring_lag_months` earlier, scaled by
the world's `capacity_slack`, at most 5% more or fewer people a month, so a growing line
runs short and won work waits for people; a shrinking line has people on the bench. Work is
scheduled in the order it was won, at the first week from its requested start where every
role it needs has room for its weekly hours over its whole run (planning ignores holidays;
delivery does not).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from pssync.sandbox.worlds.traits import WorldTraits

WEEK_HOURS = 40.0
PRODUCTIVE = 34.0  # hours a person is planned to deliver per week
SEARCH_WEEKS = 52
MAX_MONTHLY_CHANGE = 0.05  # of a role's headcount, hired or leaving in one month


@dataclass
class Person:
    idx: int
    role: str
    start: dt.date
    end: dt.date | None = None

    @property
    def id(self) -> str:
        return f"wres-{self.idx:04d}"

    def active(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Weeks:
    """Monday-based week index over the world's timeline, with each week's availability."""

    def __init__(self, traits: WorldTraits, first: dt.date, n: int) -> None:
        self.first = first - dt.timedelta(days=first.weekday())
        self.n = n
        holidays = set(traits.holidays(self.first.year, self.first.year + n // 52 + 2))
        self.avail: list[float] = []
        for i in range(n):
            monday = self.day(i)
            days = [monday + dt.timedelta(days=k) for k in range(5)]
            share = sum(d not in holidays for d in days) / 5
            if monday.month == 8:
                share *= 1 - traits.summer_dip
            if monday.month == 12 and monday.day >= 18:
                share *= 1 - traits.december_dip
            self.avail.append(share)

    def day(self, i: int) -> dt.date:
        return self.first + dt.timedelta(days=7 * i)

    def index(self, day: dt.date) -> int:
        return max(0, min(self.n - 1, (day - self.first).days // 7))


def hire(
    traits: WorldTraits, weeks: Weeks, demand: dict[str, list[float]], months: list[dt.date]
) -> list[Person]:
    """Each role's people over time: headcount = lagged demand / productive hours x slack."""
    people: list[Person] = []
    for role in sorted(demand):
        series = demand[role]
        staff: list[Person] = []
        for k, month in enumerate(months):
            lo = max(0, k - traits.hiring_lag_months - 2)
            hi = max(lo + 1, k - traits.hiring_lag_months + 1)
            if k < traits.hiring_lag_months + 2:  # before history: plan on the first months
                lo, hi = 0, 3
            window = [
                series[i]
                for i in range(
                    weeks.index(months[lo]), weeks.index(months[min(hi, len(months) - 1)])
                )
            ] or [0.0]
            target = max(1, round(sum(window) / len(window) / PRODUCTIVE * traits.capacity_slack))
            active = [p for p in staff if p.end is None]
            # firms grow and shrink gradually: hiring and leaving are capped per month
            step = max(1, round(len(active) * MAX_MONTHLY_CHANGE)) if k else target
            for _ in range(min(step, target - len(active))):
                person = Person(len(people) + 1, role, month)
                people.append(person)
                staff.append(person)
            surplus = min(step, len(active) - target - 1)
            if surplus > 0:
                for p in active[-surplus:]:
                    p.end = month - dt.timedelta(days=1)
    return people


class Capacity:
    """Planned weekly hours per role (people x productive hours) and what work has taken."""

    def __init__(self, weeks: Weeks, people: list[Person]) -> None:
        self.weeks = weeks
        self.cap: dict[str, list[float]] = {}
        self.load: dict[str, list[float]] = {}
        for p in people:
            cap = self.cap.setdefault(p.role, [0.0] * weeks.n)
            self.load.setdefault(p.role, [0.0] * weeks.n)
            for i in range(weeks.index(p.start), weeks.n):
                if p.end is not None and weeks.day(i) > p.end:
                    break
                cap[i] += PRODUCTIVE

    def _overflow(self, pace: dict[str, float], s: int, length: int) -> float:
        over = 0.0
        for role, hours in pace.items():
            cap, load = self.cap.get(role), self.load.get(role)
            if cap is None or load is None:
                continue
            for i in range(s, min(s + length, self.weeks.n)):
                over += max(0.0, load[i] + hours - cap[i])
        return over

    def place(self, pace: dict[str, float], requested: int, length: int, wait: bool) -> int:
        """First week from `requested` with room for `pace` over `length` weeks (or the
        least-overbooked week of the search window); the work's hours are then reserved."""
        best, best_over = requested, math.inf
        for s in range(requested, min(requested + (SEARCH_WEEKS if wait else 1), self.weeks.n)):
            over = self._overflow(pace, s, length)
            if over < 1e-9:
                best = s
                break
            if over < best_over:
                best, best_over = s, over
        for role, hours in pace.items():
            load = self.load.setdefault(role, [0.0] * self.weeks.n)
            for i in range(best, min(best + length, self.weeks.n)):
                load[i] += hours
        return best
