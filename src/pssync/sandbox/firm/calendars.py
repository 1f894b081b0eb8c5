"""Working calendars with regional public holidays.

Capacity, time entries and "earliest feasible start" all depend on which days people work, so
each region carries real holiday rules (computed, not listed) and numpy business-day calendars
make day counting over hundreds of thousands of bookings cheap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

ONE_DAY = dt.timedelta(days=1)


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (0=Monday) of a month; n=-1 is the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - ONE_DAY
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _us_observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - ONE_DAY
    if day.weekday() == 6:
        return day + ONE_DAY
    return day


def _au_observed(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def us_holidays(year: int) -> list[dt.date]:
    return [
        _us_observed(dt.date(year, 1, 1)),
        nth_weekday(year, 1, 0, 3),
        nth_weekday(year, 2, 0, 3),
        nth_weekday(year, 5, 0, -1),
        _us_observed(dt.date(year, 6, 19)),
        _us_observed(dt.date(year, 7, 4)),
        nth_weekday(year, 9, 0, 1),
        nth_weekday(year, 11, 3, 4),
        _us_observed(dt.date(year, 12, 25)),
    ]


def de_holidays(year: int) -> list[dt.date]:
    e = easter(year)
    return [
        dt.date(year, 1, 1),
        e - dt.timedelta(days=2),
        e + dt.timedelta(days=1),
        dt.date(year, 5, 1),
        e + dt.timedelta(days=39),
        e + dt.timedelta(days=50),
        dt.date(year, 10, 3),
        dt.date(year, 12, 25),
        dt.date(year, 12, 26),
    ]


def _au_christmas(year: int) -> list[dt.date]:
    """Christmas and Boxing Day with Australia's substitute days when they fall on a weekend."""
    xmas = dt.date(year, 12, 25)
    shifts = {4: (0, 2), 5: (2, 2), 6: (2, 0)}.get(xmas.weekday(), (0, 0))
    return [xmas + dt.timedelta(days=shifts[0]), xmas + dt.timedelta(days=1 + shifts[1])]


def au_holidays(year: int) -> list[dt.date]:
    e = easter(year)
    return [
        _au_observed(dt.date(year, 1, 1)),
        _au_observed(dt.date(year, 1, 26)),
        e - dt.timedelta(days=2),
        e + dt.timedelta(days=1),
        dt.date(year, 4, 25),
        nth_weekday(year, 6, 0, 2),
        *_au_christmas(year),
    ]


HOLIDAY_RULES = {"NA": us_holidays, "EMEA": de_holidays, "APAC": au_holidays}


def holidays_for(region_code: str, first_year: int, last_year: int) -> list[dt.date]:
    rule = HOLIDAY_RULES[region_code]
    days = {d for year in range(first_year, last_year + 1) for d in rule(year)}
    return sorted(d for d in days if d.weekday() < 5)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days of one region, answering counts and listings in vectorised form."""

    region_code: str
    holidays: tuple[dt.date, ...]
    hours_per_day: int = 8

    @cached_property
    def busday(self) -> np.busdaycalendar:
        return np.busdaycalendar(
            weekmask="1111100", holidays=np.array(self.holidays, dtype="datetime64[D]")
        )

    def working_days(self, start: dt.date, end: dt.date) -> npt.NDArray[np.datetime64]:
        """Working days in [start, end] inclusive, as datetime64[D]."""
        if end < start:
            return np.array([], dtype="datetime64[D]")
        days = np.arange(
            np.datetime64(start, "D"), np.datetime64(end + ONE_DAY, "D"), dtype="datetime64[D]"
        )
        return days[np.is_busday(days, busdaycal=self.busday)]

    def count(self, start: dt.date, end: dt.date) -> int:
        if end < start:
            return 0
        return int(
            np.busday_count(
                np.datetime64(start, "D"), np.datetime64(end + ONE_DAY, "D"), busdaycal=self.busday
            )
        )

    def is_working_day(self, day: dt.date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self.busday))

    def next_working_day(self, day: dt.date) -> dt.date:
        """`day` itself if it is a working day, else the next one."""
        out = np.busday_offset(np.datetime64(day, "D"), 0, roll="forward", busdaycal=self.busday)
        return dt.date.fromisoformat(str(out))


def make_calendars(first_year: int, last_year: int) -> dict[str, WorkCalendar]:
    return {
        code: WorkCalendar(code, tuple(holidays_for(code, first_year, last_year)))
        for code in HOLIDAY_RULES
    }
