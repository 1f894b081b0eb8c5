"""Week-by-week capacity of every consultant, and the search for the earliest feasible start.

Load is kept as half-hours per working day per ISO week, so a holiday week needs no special
case (demand and capacity shrink together). A project starts at the first week from its
requested start at which every role it needs has someone free for the whole duration; when no
such week exists within the allowed delay, it starts at the last allowed week over capacity.
After a few weeks of waiting a project may borrow people from other regions, as real firms do;
the worked example's region check looks only at local people, which is what "no architects
in the region" means.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pssync.sandbox.firm.units import monday_on_or_before
from pssync.sandbox.firm.world import Person

FULL_DAY = 16  # half-hours in an 8-hour working day
#: Weeks a project waits for local people before it borrows consultants from other regions.
REMOTE_AFTER_WEEKS = 6


@dataclass(frozen=True)
class Demand:
    """`people` consultants of `role`, each `daily_halves` half-hours per working day."""

    role: str
    daily_halves: int
    people: int


@dataclass(frozen=True)
class Pick:
    role: str
    person: int
    daily_halves: int


class CapacityPlanner:
    """Bookings per person and week; `reserved` blocks general scheduling but not its owner."""

    def __init__(self, people: list[Person], week0: dt.date, weeks: int) -> None:
        self.week0 = monday_on_or_before(week0)
        self.weeks = weeks
        self.people = people
        self.load: npt.NDArray[np.int32] = np.zeros((len(people), weeks), dtype=np.int32)
        self.reserved: npt.NDArray[np.int32] = np.zeros((len(people), weeks), dtype=np.int32)
        for p in people:
            hired = min(self.week_index(p.hired), weeks)
            if hired > 0:
                self.reserved[p.idx, :hired] = FULL_DAY

    def week_index(self, day: dt.date) -> int:
        return (monday_on_or_before(day) - self.week0).days // 7

    def week_start(self, index: int) -> dt.date:
        return self.week0 + dt.timedelta(weeks=index)

    def candidates(self, region: str, role: str, remote: bool = False) -> list[int]:
        """People of the role in the region, then (with `remote`) in other regions."""
        local = [p.idx for p in self.people if p.role == role and p.region == region]
        if remote or not local:
            local += [p.idx for p in self.people if p.role == role and p.region != region]
        return local or [p.idx for p in self.people]

    def free(self, person: int, start: int, weeks: int, *, include_reserved: bool = True) -> int:
        busy = self.load[person, start : start + weeks]
        if include_reserved:
            busy = busy + self.reserved[person, start : start + weeks]
        return int(FULL_DAY - busy.max()) if busy.size else FULL_DAY

    def _try(
        self,
        region: str,
        demands: list[Demand],
        start: int,
        weeks: int,
        force: bool,
        remote: bool = False,
    ) -> list[Pick] | None:
        picks: list[Pick] = []
        end = start + weeks
        for d in demands:
            cands = np.array(self.candidates(region, d.role, remote))
            away = np.array([self.people[c].region != region for c in cands])
            busy = self.load[cands, start:end] + self.reserved[cands, start:end]
            peak = busy.max(axis=1)
            # Normally local people first; when forced over capacity, the least loaded anywhere.
            keys = (
                (cands, busy.sum(axis=1), away, peak)
                if force
                else (cands, busy.sum(axis=1), peak, away)
            )
            order = np.lexsort(keys)
            chosen = [int(cands[i]) for i in order if force or FULL_DAY - peak[i] >= d.daily_halves]
            if len(chosen) < d.people:
                if not force or not chosen:
                    self._unbook(picks, start, weeks)
                    return None
                chosen = (chosen * d.people)[: d.people]
            for person in chosen[: d.people]:
                pick = Pick(d.role, person, d.daily_halves)
                self.load[person, start:end] += d.daily_halves
                picks.append(pick)
        return picks

    def _unbook(self, picks: list[Pick], start: int, weeks: int) -> None:
        for p in picks:
            self.load[p.person, start : start + weeks] -= p.daily_halves

    def book(
        self, region: str, demands: list[Demand], earliest: dt.date, weeks: int, max_delay: int
    ) -> tuple[int, list[Pick]]:
        """Book the first feasible start week at or after `earliest`; returns (week, picks)."""
        first = max(0, self.week_index(earliest) + (earliest.weekday() != 0))
        last = min(first + max_delay, self.weeks - weeks)
        for start in range(first, last + 1):
            picks = self._try(region, demands, start, weeks, force=False)
            if picks is None and start - first >= REMOTE_AFTER_WEEKS:
                picks = self._try(region, demands, start, weeks, force=False, remote=True)
            if picks is not None:
                return start, picks
        start = max(first, min(last, self.weeks - weeks))
        picks = self._try(region, demands, start, weeks, force=True, remote=True) or []
        return start, picks

    def add(
        self, person: int, start: int, weeks: int, daily_halves: int, *, reserve: bool = False
    ) -> None:
        target = self.reserved if reserve else self.load
        target[person, start : start + weeks] += daily_halves
