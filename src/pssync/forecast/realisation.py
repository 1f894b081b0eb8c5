"""Booked-to-billed realisation: how many billable hours a hard-booked hour turns into.

Time-and-materials revenue is what is logged and billed, and people log less than they are
booked: absence, non-billable work, days under plan. That gap is steady firm behaviour, so the
ratio over a trailing window (known at T) scales booked T&M revenue in the forecast. Without
it, every booked hour is forecast as billed and T&M backlog runs high month after month.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.snapshot import Snapshot

#: Trailing window of the ratio (about six months: long enough to smooth holidays).
REALISATION_DAYS = 182

_BOOKED_SQL = """
SELECT a.start_date, a.end_date, a.hours, r.region_id FROM assignment a
JOIN resource r ON r.id = a.resource_id
WHERE a.booking_type = 'hard' AND a.start_date <= $last AND a.end_date >= $first
"""
_LOGGED_SQL = """
SELECT coalesce(sum(hours), 0) FROM time_entry
WHERE billable AND work_date BETWEEN $first AND $last
"""


def realisation_ratio(
    analytics: AnalyticsStore, snap: Snapshot, days: int = REALISATION_DAYS
) -> Decimal:
    """Billable hours logged / hard-booked hours over the `days` before T (1 without data).

    Bookings are what delivery planned; time is what clients are billed for. The gap
    (absence, non-billable work, people logging under plan) is steady firm behaviour, so the
    trailing ratio scales booked T&M revenue. Booked hours in the window are each booking's
    hours pro rata to its working days (the region's calendar), as the forecast spreads them.
    """
    first, last = snap.as_of - dt.timedelta(days=days - 1), snap.as_of
    params = {"first": first, "last": last}
    booked = 0.0
    for start, end, hours, region in analytics.con.execute(_BOOKED_SQL, params).fetchall():
        cal = snap.calendar(region)
        total = cal.count(start, end)
        if total:
            booked += float(hours) * cal.count(max(start, first), min(end, last)) / total
    logged = analytics.con.execute(_LOGGED_SQL, params).fetchall()[0][0]
    if booked <= 0 or not logged:
        return Decimal(1)
    return (Decimal(logged) / Decimal(str(booked))).quantize(Decimal("0.0001"))
