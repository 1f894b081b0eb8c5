"""Working-day counts from running totals agree with numpy's business-day calendar."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from pssync.model import Region
from pssync.planning.periods import WorkCalendar, iter_months

CALENDARS = (
    WorkCalendar(),
    WorkCalendar(
        Region(
            id="r",
            code="R",
            name="R",
            working_weekdays=[0, 1, 2, 3],
            holidays=[dt.date(2026, 1, 1), dt.date(2026, 12, 25), dt.date(2031, 5, 1)],
        )
    ),
    WorkCalendar(Region(id="z", code="Z", name="Z", working_weekdays=[])),
)


def _busdays(cal: WorkCalendar, first: dt.date, end: dt.date) -> int:
    """Working days in [first, end) straight from `np.busday_count`."""
    return int(np.busday_count(first, end, busdaycal=cal.busdays)) if cal.weekdays else 0


def test_counts_match_busday_count_as_the_running_total_widens() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        cal = rng.choice(CALENDARS)
        # each calendar is asked in a random order of far-apart ranges, so its running
        # total is rebuilt both earlier and later than what it covered
        first = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(5000))
        last = first + dt.timedelta(days=rng.randrange(-10, 1200))
        assert cal.count(first, last) == (
            _busdays(cal, first, last + dt.timedelta(days=1)) if first <= last else 0
        )
        by_month = cal.working_days_by_month(first, last)
        expected = {}
        for month in iter_months(first, last) if first <= last else ():
            lo = max(month, first)
            hi = min((month + dt.timedelta(days=32)).replace(day=1), last + dt.timedelta(days=1))
            n = _busdays(cal, lo, hi)
            if n:
                expected[month] = n
        assert by_month == expected


def test_no_working_weekday_counts_nothing() -> None:
    cal = CALENDARS[2]
    assert cal.count(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == 0
    assert cal.working_days_by_month(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == {}
    assert CALENDARS[1].count(dt.date(2026, 1, 1), dt.date(2026, 1, 1)) == 0  # a holiday


def test_ranges_at_the_edges_of_what_the_running_total_covers() -> None:
    # the first ask covers a year either side; then ask up to one day past either edge
    for region_cal in CALENDARS[:2]:
        cal = WorkCalendar(
            Region(
                id="e",
                code="E",
                name="E",
                working_weekdays=sorted(region_cal.weekdays),
                holidays=sorted(region_cal.holidays),
            )
        )
        first, last = dt.date(2026, 3, 2), dt.date(2026, 9, 30)
        cal.count(first, last)
        for lo, hi in (
            (last + dt.timedelta(days=300), last + dt.timedelta(days=366)),
            (last + dt.timedelta(days=300), last + dt.timedelta(days=367)),
            (first - dt.timedelta(days=366), first),
            (first - dt.timedelta(days=367), first),
        ):
            assert cal.count(lo, hi) == _busdays(cal, lo, hi + dt.timedelta(days=1))
