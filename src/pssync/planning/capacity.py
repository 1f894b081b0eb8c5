"""Role capacity by region, what bookings consume of it, and resource-constrained start dates.

Sales asks for a start; delivery can only start when the roles the deal needs have free hours.
Capacity is built per working day of each resource's region (weekly hours spread over the
region's working weekdays, holidays excluded, within the resource's employment dates). Hard
bookings always consume it, soft bookings optionally. Each pipeline deal, highest probability
first, then takes the earliest month-aligned start at or after its requested start where every
month of its delivery window has enough free hours for every role; its probability-weighted
hours are then reserved so the next deal sees what is left. Hours are floats (not money).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pssync.model import Assignment, BookingType, Region, Resource
from pssync.planning.periods import WorkCalendar, add_months, month_start, months_between

Key = tuple[str, str]  # (role_id, region_id)
Array = npt.NDArray[np.float64]
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Demand:
    """Hours by role that a deal (or draft project) needs, in one region, over whole months."""

    deal_id: str
    region_id: str
    hours_by_role: Mapping[str, float]
    duration_months: int
    requested_start: dt.date
    weight: float = 1.0  # share of the hours to reserve once placed (the win probability)


@dataclass(frozen=True)
class Placement:
    deal_id: str
    requested_start: dt.date
    start: dt.date
    feasible: bool
    binding_roles: tuple[str, ...] = ()

    @property
    def months_moved(self) -> int:
        return months_between(self.requested_start, self.start)


class CapacityPlan:
    """Daily capacity and bookings per (role, region) over a fixed window of days."""

    def __init__(
        self,
        first: dt.date,
        last: dt.date,
        regions: Mapping[str, Region],
        resources: Sequence[Resource],
        assignments: Sequence[Assignment],
        *,
        include_soft: bool = False,
        added_weekly_hours: Mapping[str, float] | None = None,
    ) -> None:
        self.first, self.days = first, (last - first).days + 1
        self._calendars = {rid: WorkCalendar(r) for rid, r in regions.items()}
        self._default = WorkCalendar()
        days = np.datetime64(first, "D") + np.arange(self.days)
        months = days.astype("datetime64[M]").astype(np.int64)
        self.month_index = months - months[0]
        self.n_months = int(self.month_index[-1]) + 1
        self._working = {
            rid: self._calendar(rid).mask(first, self.days) for rid in [*self._calendars, ""]
        }
        self._free: dict[Key, Array] = {}
        self._cum: dict[str, Array] = {}
        self._month_firsts: npt.NDArray[np.int64] | None = None
        self._aranges: dict[int, npt.NDArray[np.int64]] = {}
        self.capacity: dict[Key, Array] = defaultdict(self._zeros)
        self.booked: dict[Key, Array] = defaultdict(self._zeros)
        by_id = {r.id: r for r in resources}
        for res in resources:
            self._add_capacity(res.role_id, res.region_id, float(res.weekly_capacity_hours), res)
        for role, weekly in (added_weekly_hours or {}).items():
            role_id, _, region = role.partition("@")
            for region_id in [region] if region else list(self._calendars):
                self._add_capacity(role_id, region_id, weekly, None)
        for a in assignments:
            booked_res = by_id.get(a.resource_id)
            if booked_res is None or (a.booking_type == BookingType.SOFT and not include_soft):
                continue
            key = (a.role_id or booked_res.role_id, booked_res.region_id)
            self.book(key, a.start_date, a.end_date, float(a.hours))

    def _zeros(self) -> Array:
        return np.zeros(self.days, dtype=np.float64)

    def _calendar(self, region_id: str) -> WorkCalendar:
        return self._calendars.get(region_id) or self._default

    def working(self, region_id: str) -> npt.NDArray[np.bool_]:
        return self._working.get(region_id, self._working[""])

    def _span(self, start: dt.date, end: dt.date) -> tuple[int, int]:
        return max((start - self.first).days, 0), min((end - self.first).days + 1, self.days)

    def _add_capacity(self, role: str, region: str, weekly: float, res: Resource | None) -> None:
        cal = self._calendar(region)
        per_day = weekly / max(len(cal.weekdays), 1)
        lo, hi = self._span(
            (res.start_date if res and res.start_date else self.first),
            (res.end_date if res and res.end_date else self.first + dt.timedelta(self.days)),
        )
        if lo < hi:
            self.capacity[(role, region)][lo:hi] += per_day * self.working(region)[lo:hi]
            self._free.pop((role, region), None)

    def book(self, key: Key, start: dt.date, end: dt.date, hours: float) -> None:
        """Spread `hours` evenly over the region's working days of [start, end] (in the window
        part only: hours before the window were consumed in the past)."""
        full_lo, full_hi = (start - self.first).days, (end - self.first).days + 1
        lo, hi = self._span(start, end)
        if lo >= hi or full_hi <= full_lo:
            return
        total_days = self._calendar(key[1]).count(start, end) or 1
        mask = self.working(key[1])[lo:hi]
        self.booked[key][lo:hi] += (hours / total_days) * mask
        self._free.pop(key, None)

    def monthly(self, series: Array) -> Array:
        counts = np.bincount(self.month_index, weights=series, minlength=self.n_months)
        return counts.astype(np.float64)

    def free_by_month(self, key: Key) -> Array:
        """Free hours per month (cached until the key's capacity or bookings change)."""
        free = self._free.get(key)
        if free is None:
            free = self._free[key] = self.monthly(self.capacity[key] - self.booked[key])
        return free

    def place(self, demand: Demand, max_months: int = 24) -> Placement:
        """Earliest feasible start: the requested date, else the first of a later month.

        A candidate is feasible when its window lies inside the plan and, for every role, no
        month of the window needs more than the free hours (need = working days of the month
        in the window x hours / working days of the window). All candidates are tested at
        once as (role x candidate x month) arrays: the large firm places ~6.5k deals, most of
        them 5-20 months out, and trying ~86k candidates one by one in Python cost seconds.
        The arithmetic is the same float operations in the same order, so starts are too.
        """
        roles = list(demand.hours_by_role)
        k: int | None = 0  # nothing to check without roles: the requested start holds
        binding: tuple[str, ...] = ()
        if roles:
            k, short = self._first_feasible(demand, max_months)
            if k is None:
                binding = tuple(sorted(r for r, row in zip(roles, short, strict=True) if row))
        if k is None:
            return Placement(
                demand.deal_id, demand.requested_start, demand.requested_start, False, binding
            )
        start = demand.requested_start if k == 0 else add_months(demand.requested_start, k)
        end = add_months(month_start(start), demand.duration_months) - dt.timedelta(days=1)
        self._reserve(demand, start, end)
        return Placement(demand.deal_id, demand.requested_start, start, True, ())

    def _first_feasible(self, demand: Demand, max_months: int) -> tuple[int | None, list[bool]]:
        """(first feasible candidate k, or None; per role: short in some candidate).

        Candidate 0 is the requested start, candidate k the first day of the k-th month after
        it; its window runs to the end of its month + duration - 1. A window outside the plan
        cannot be judged: it is infeasible and counts every role as short.
        """
        first_days, cum = self._first_days(), self._cumulative(demand.region_id)
        duration, n, req = demand.duration_months, self.n_months, demand.requested_start
        month0 = (req.year - self.first.year) * 12 + req.month - self.first.month
        lo0 = (req - self.first).days
        # month-start candidates inside the plan form one run of k: from the first month
        # that starts inside it to the last whose window ends by its last day
        lowest = 0 if self.first.day == 1 else 1
        highest = n - duration - (0 if first_days[n] == self.days else 1)
        ks = list(range(max(1, lowest - month0), min(max_months, highest - month0) + 1))
        if lo0 >= 0 and month0 + duration <= n and first_days[month0 + duration] <= self.days:
            ks.insert(0, 0)
        outside = len(ks) < max_months + 1
        if not ks:
            return None, [True] * len(demand.hours_by_role)
        window = (month0 + np.array(ks))[:, None] + self._steps(duration)
        edges = first_days[window]
        if ks[0] == 0:
            edges[0, 0] = lo0
        at = cum[edges]
        days = at[:, 1:] - at[:, :-1]  # working days per (candidate, month)
        total = at[:, -1] - at[:, 0]
        total[total == 0] = 1.0
        per_day = 1.0 / total
        hours = np.array(list(demand.hours_by_role.values()), dtype=np.float64)
        need = days[None, :, :] * (hours[:, None] * per_day[None, :])[:, :, None]
        free = np.stack([self.free_by_month((r, demand.region_id)) for r in demand.hours_by_role])
        free_at = free[:, window[:, :-1]]
        over = (need > 0) & (need - free_at > _TOLERANCE)
        short = np.asarray(over.any(axis=2), dtype=bool)  # role x candidate
        fits = np.flatnonzero(~short.any(axis=0))
        if fits.size:
            return ks[int(fits[0])], []
        return None, [outside or bool(short[i].any()) for i in range(short.shape[0])]

    def _steps(self, duration: int) -> npt.NDArray[np.int64]:
        found = self._aranges.get(duration)
        if found is None:
            found = self._aranges[duration] = np.arange(duration + 1, dtype=np.int64)
        return found

    def _first_days(self) -> npt.NDArray[np.int64]:
        """Day index of the first calendar day of plan months 0 .. n_months + 1 (month 0 may
        begin before the plan, so negative; the last two lie past its end, as clip targets)."""
        if self._month_firsts is None:
            self._month_firsts = np.array(
                [(add_months(self.first, m) - self.first).days for m in range(self.n_months + 2)],
                dtype=np.int64,
            )
        return self._month_firsts

    def _cumulative(self, region_id: str) -> npt.NDArray[np.float64]:
        """Working days before each day index of the window (length days + 1)."""
        found = self._cum.get(region_id)
        if found is None:
            mask = self.working(region_id).astype(np.float64)
            found = self._cum[region_id] = np.concatenate(([0.0], np.cumsum(mask)))
        return found

    def _reserve(self, demand: Demand, start: dt.date, end: dt.date) -> None:
        """Book each role's weighted hours over a window `place` found inside the plan.

        The window's working days come from the running totals (`book` counts them with the
        calendar, the same number inside the plan): ~20k reservations on the large firm."""
        if not demand.hours_by_role:
            return  # placed without a check (nothing to book), maybe outside the plan
        lo, hi = (start - self.first).days, (end - self.first).days + 1
        cum = self._cumulative(demand.region_id)
        total_days = float(cum[hi] - cum[lo]) or 1.0
        mask = self.working(demand.region_id)[lo:hi]
        for role, hours in demand.hours_by_role.items():
            key = (role, demand.region_id)
            self.booked[key][lo:hi] += (hours * demand.weight / total_days) * mask
            self._free.pop(key, None)
