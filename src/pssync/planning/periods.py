"""Months, as-of instants and region working calendars: the time grid every component shares.

The forecast is monthly, but revenue and capacity accrue per working day of a region, so both
grids live here. An as-of *date* means "the end of that day, UTC": a fact recorded at 17:00 on
T is part of the forecast as of T, one recorded the next morning is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from pssync.model import Region

DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)


def as_of_instant(as_of: dt.date) -> dt.datetime:
    """The last instant of `as_of` in UTC: what was valid and known by the close of that day."""
    return dt.datetime.combine(as_of, dt.time.max, tzinfo=dt.UTC)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    """First day of the month `n` months after the month of `month`."""
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return add_months(day, 1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> int:
    """Whole months from the month of `first` to the month of `last` (0 for the same month)."""
    return (last.year - first.year) * 12 + last.month - first.month


def iter_months(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """First days of every month from the month of `first` to the month of `last`, inclusive."""
    month = month_start(first)
    while month <= last:
        yield month
        month = add_months(month, 1)


def iter_days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


class WorkCalendar:
    """Working days of one region; without a region, Monday to Friday with no holidays.

    Counting runs on numpy's business-day calendar (`np.busday_count`), not a Python loop over
    days: the forecast counts the working days of every booking, month by month, and a
    medium firm has thousands of bookings over years.
    """

    def __init__(self, region: Region | None = None) -> None:
        self.weekdays = frozenset(region.working_weekdays if region else DEFAULT_WEEKDAYS)
        self.holidays = frozenset(region.holidays if region else ())
        self.hours_per_day = region.hours_per_day if region else Decimal("8")
        mask = [1 if d in self.weekdays else 0 for d in range(7)]
        self.busdays = np.busdaycalendar(
            weekmask=mask if any(mask) else [1, 0, 0, 0, 0, 0, 0],
            holidays=np.array(sorted(self.holidays), dtype="datetime64[D]"),
        )
        self._none = not any(mask)
        self._base: dt.date | None = None
        self._cum: list[int] = []

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def mask(self, first: dt.date, days: int) -> npt.NDArray[np.bool_]:
        """Working-day flags of `days` consecutive days from `first`."""
        dates = np.datetime64(first, "D") + np.arange(days)
        if self._none:
            return np.zeros(days, dtype=bool)
        return np.asarray(np.is_busday(dates, busdaycal=self.busdays), dtype=bool)

    def _running(self, first: dt.date, end: dt.date) -> list[int]:
        """Working days before each day from `self._base` (a running total covering
        [first, end], widened by years at a time, so a forecast builds it a few times only).

        Counting from a list is plain integer arithmetic: `np.busday_count` per booking and
        month cost ~0.1 ms a call, and the large firm counts ~40k bookings' months.
        """
        base, cum = self._base, self._cum
        if base is None or first < base or (end - base).days + 1 >= len(cum):
            lo = min(first, base) if base is not None else first
            hi = max(end, base + dt.timedelta(days=len(cum) - 2)) if base is not None else end
            lo, hi = lo - dt.timedelta(days=366), hi + dt.timedelta(days=366)
            flags = self.mask(lo, (hi - lo).days + 1)
            cum = self._cum = [0, *np.cumsum(flags, dtype=np.int64).tolist()]
            base = self._base = lo
        return cum

    def count(self, first: dt.date, last: dt.date) -> int:
        """Number of working days in [first, last]."""
        if first > last or self._none:
            return 0
        cum = self._running(first, last)
        assert self._base is not None
        return cum[(last - self._base).days + 1] - cum[(first - self._base).days]

    def working_days(self, first: dt.date, last: dt.date) -> list[dt.date]:
        return [d for d in iter_days(first, last) if self.is_working_day(d)]

    def working_days_by_month(self, first: dt.date, last: dt.date) -> dict[dt.date, int]:
        """Count of working days per month in [first, last] (months without any are omitted)."""
        if first > last or self._none:
            return {}
        cum = self._running(first, last)
        base = self._base
        assert base is not None
        out = {}
        end = (last - base).days + 1
        for month in iter_months(first, last):
            lo = (max(month, first) - base).days
            hi = min((add_months(month, 1) - base).days, end)
            n = cum[hi] - cum[lo]
            if n:
                out[month] = n
        return out
