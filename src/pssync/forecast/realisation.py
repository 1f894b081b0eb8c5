"""Booked-to-billed realisation: how many billable hours a hard-booked hour turns into.

Time-and-materials revenue is what is logged and billed, and people log less than they are
booked: absence, non-billable work, days under plan. That gap is steady firm behaviour, so the
ratio over a trailing window (known at T) scales booked T&M revenue in the forecast. Without
it, every booked hour is forecast as billed and T&M backlog runs high month after month.

The gap is steady on average, not month by month: how far a month's ratio strays from the
firm's is the spread (`realisation_spread`) the Monte Carlo band draws delivered backlog with,
so a month still to be worked is never forecast as certain.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from decimal import Decimal

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.snapshot import Snapshot
from pssync.planning.periods import add_months, month_end, month_start

#: Trailing window of the ratio (about six months: long enough to smooth holidays).
REALISATION_DAYS = 182
#: Full months whose ratios give the spread, and how few are too few to trust it.
SPREAD_MONTHS = 12
MIN_SPREAD_MONTHS = 3

_BOOKED_SQL = """
SELECT a.start_date, a.end_date, a.hours, r.region_id FROM assignment a
JOIN resource r ON r.id = a.resource_id
WHERE a.booking_type = 'hard' AND a.start_date <= $last AND a.end_date >= $first
"""
_LOGGED_SQL = """
SELECT coalesce(sum(hours), 0) FROM time_entry
WHERE billable AND work_date BETWEEN $first AND $last
"""
_LOGGED_BY_MONTH_SQL = """
SELECT CAST(date_trunc('month', work_date) AS DATE), sum(hours) FROM time_entry
WHERE billable AND work_date BETWEEN $first AND $last GROUP BY 1
"""


def booked_and_logged(
    analytics: AnalyticsStore, snap: Snapshot, first: dt.date, last: dt.date
) -> tuple[float, Decimal]:
    """Hard-booked and billable logged hours from `first` to `last`. Booked hours are each
    booking's hours pro rata to its working days (the region's calendar), as the forecast
    spreads them."""
    params = {"first": first, "last": last}
    booked = 0.0
    for start, end, hours, region in analytics.con.execute(_BOOKED_SQL, params).fetchall():
        cal = snap.calendar(region)
        total = cal.count(start, end)
        if total:
            booked += float(hours) * cal.count(max(start, first), min(end, last)) / total
    logged = analytics.con.execute(_LOGGED_SQL, params).fetchall()[0][0]
    return booked, Decimal(logged or 0)


def realisation_ratio(
    analytics: AnalyticsStore, snap: Snapshot, days: int = REALISATION_DAYS
) -> Decimal:
    """Billable hours logged / hard-booked hours over the `days` before T (1 without data).

    Bookings are what delivery planned; time is what clients are billed for. The gap
    (absence, non-billable work, people logging under plan) is steady firm behaviour, so the
    trailing ratio scales booked T&M revenue.
    """
    booked, logged = booked_and_logged(
        analytics, snap, snap.as_of - dt.timedelta(days=days - 1), snap.as_of
    )
    if booked <= 0 or not logged:
        return Decimal(1)
    return (logged / Decimal(str(booked))).quantize(Decimal("0.0001"))


def realisation_spread(
    analytics: AnalyticsStore, snap: Snapshot, months: int = SPREAD_MONTHS
) -> float | None:
    """Standard deviation of log(logged / booked) over the last `months` full months before
    T: how far one month's delivery strays from its plan. None when fewer than
    MIN_SPREAD_MONTHS months had both bookings and time."""
    last = add_months(month_start(snap.as_of), -1)
    firsts = [add_months(last, -k) for k in range(months)]
    params = {"first": firsts[-1], "last": month_end(last)}
    booked = dict.fromkeys(firsts, 0.0)
    for start, end, hours, region in analytics.con.execute(_BOOKED_SQL, params).fetchall():
        cal = snap.calendar(region)
        total = cal.count(start, end)
        for first in firsts if total else ():
            lo, hi = max(start, first), min(end, month_end(first))
            if lo <= hi:
                booked[first] += float(hours) * cal.count(lo, hi) / total
    logged = dict(analytics.con.execute(_LOGGED_BY_MONTH_SQL, params).fetchall())
    logs = [
        math.log(float(logged[m]) / booked[m])
        for m in firsts
        if booked[m] > 0 and float(logged.get(m) or 0) > 0
    ]
    return statistics.stdev(logs) if len(logs) >= MIN_SPREAD_MONTHS else None
