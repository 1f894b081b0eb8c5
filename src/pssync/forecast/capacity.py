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

from pssync.forecast.periods import WorkCalendar, add_months, month_start, months_between
from pssync.model import Assignment, BookingType, Region, Resource

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
        self._free_lists: dict[Key, list[float]] = {}
        self._cum: dict[str, list[float]] = {}
        # month of each day index, and the first day index of each month plus the end
        self._month_of: list[int] = self.month_index.tolist()
        edges = np.searchsorted(self.month_index, np.arange(self.n_months + 1))
        self._edges: list[int] = edges.tolist()
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
            self._free_lists.pop((role, region), None)

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
        self._free_lists.pop(key, None)

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
        """Earliest feasible start: the requested date, else the first of a later month."""
        candidates = [demand.requested_start] + [
            add_months(demand.requested_start, k) for k in range(1, max_months + 1)
        ]
        binding: set[str] = set()
        for start in candidates:
            end = add_months(month_start(start), demand.duration_months) - dt.timedelta(days=1)
            short = self._short_roles(demand, start, end)
            if not short:
                self._reserve(demand, start, end)
                return Placement(demand.deal_id, demand.requested_start, start, True, ())
            binding |= short
        return Placement(
            demand.deal_id,
            demand.requested_start,
            demand.requested_start,
            False,
            tuple(sorted(binding)),
        )

    def _short_roles(self, demand: Demand, start: dt.date, end: dt.date) -> set[str]:
        """Roles whose free hours fall short in some month of [start, end].

        Runs once per candidate start of every deal (~86k times for the large firm), on a
        handful of months, so it works on cached Python lists: numpy's per-call overhead on
        arrays this small cost more than the arithmetic. Working days of the window come
        from per-region running totals, not a fresh day array per try.
        """
        lo, hi = self._span(start, end)
        if hi - lo < (end - start).days + 1:
            return set(demand.hours_by_role)  # window runs past the plan: treat as infeasible
        cum = self._cumulative(demand.region_id)
        m0, m1 = self._month_of[lo], self._month_of[hi - 1] + 1
        edges = [min(max(e, lo), hi) for e in self._edges[m0 : m1 + 1]]
        days = [cum[edges[i + 1]] - cum[edges[i]] for i in range(m1 - m0)]
        per_day = 1.0 / ((cum[hi] - cum[lo]) or 1.0)
        short = set()
        for role, hours in demand.hours_by_role.items():
            free = self._free_list((role, demand.region_id))
            rate = hours * per_day
            for i, d in enumerate(days):
                need = d * rate
                if need > 0 and need - free[m0 + i] > _TOLERANCE:
                    short.add(role)
                    break
        return short

    def _free_list(self, key: Key) -> list[float]:
        found = self._free_lists.get(key)
        if found is None:
            found = self._free_lists[key] = self.free_by_month(key).tolist()
        return found

    def _cumulative(self, region_id: str) -> list[float]:
        """Working days before each day index of the window (length days + 1)."""
        found = self._cum.get(region_id)
        if found is None:
            mask = self.working(region_id).astype(np.float64)
            found = self._cum[region_id] = [0.0, *np.cumsum(mask).tolist()]
        return found

    def _reserve(self, demand: Demand, start: dt.date, end: dt.date) -> None:
        for role, hours in demand.hours_by_role.items():
            self.book((role, demand.region_id), start, end, hours * demand.weight)
