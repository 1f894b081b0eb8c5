"""Booked-to-billed realisation: trailing billable hours per booked hour, known at T."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import FirmWriter, at, usd

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.realisation import realisation_ratio, realisation_spread
from pssync.forecast.snapshot import load_snapshot
from pssync.model import Assignment, Resource, TimeEntry


def test_ratio_is_billable_logged_over_booked_in_the_window(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(
        Resource(id="res", name="A", role_id="r", region_id="x", cost_rate=usd(50)),
        at("2026-01-01"),
    )
    # 80 hours over two working weeks (Mon 2 Mar - Fri 13 Mar): 40 fall in each week
    firm.put(
        Assignment(
            id="a",
            project_id="p",
            resource_id="res",
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 3, 13),
            hours=Decimal(80),
        ),
        at("2026-02-20"),
    )
    entries = [(2, 8, True), (3, 8, True), (4, 8, False), (5, 6, True), (6, 8, True)]
    for day, hours, billable in entries:
        firm.put(
            TimeEntry(
                id=f"te-{day}",
                project_id="p",
                resource_id="res",
                work_date=dt.date(2026, 3, day),
                hours=Decimal(hours),
                billable=billable,
            ),
            at(f"2026-03-{day:02d}", 18),
        )
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    # as of Friday 6 March with a 5-day window: 40 booked, 30 billable logged
    snap = load_snapshot(analytics, dt.date(2026, 3, 6))
    assert realisation_ratio(analytics, snap, days=5) == Decimal("0.75")
    # nothing booked in the window: no evidence, ratio 1
    before = load_snapshot(analytics, dt.date(2026, 2, 27))
    assert realisation_ratio(analytics, before, days=5) == Decimal(1)


def test_spread_is_how_far_each_months_delivery_strays_from_its_bookings(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(
        Resource(id="res", name="A", role_id="r", region_id="x", cost_rate=usd(50)),
        at("2025-12-01"),
    )
    # each month: 40 hours booked Mon-Fri of its second week, some of them logged billable
    weeks = {1: (5, 30), 2: (9, 40), 3: (9, 20), 4: (6, 36)}  # month: (Monday, hours logged)
    for month, (monday, logged) in weeks.items():
        start = dt.date(2026, month, monday)
        firm.put(
            Assignment(
                id=f"a-{month}",
                project_id="p",
                resource_id="res",
                start_date=start,
                end_date=start + dt.timedelta(days=4),
                hours=Decimal(40),
            ),
            at("2025-12-15"),
        )
        for day in range(5):  # logged evenly over the booked week
            firm.put(
                TimeEntry(
                    id=f"te-{month}-{day}",
                    project_id="p",
                    resource_id="res",
                    work_date=start + dt.timedelta(days=day),
                    hours=Decimal(logged) / 5,
                    billable=True,
                ),
                at((start + dt.timedelta(days=day)).isoformat(), 18),
            )
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    # as of 10 May: January to April are the full months before it
    spread = realisation_spread(analytics, load_snapshot(analytics, dt.date(2026, 5, 10)))
    expected = statistics.stdev(math.log(h / 40) for _d, h in weeks.values())
    assert spread is not None and math.isclose(spread, expected, rel_tol=1e-9)
    # as of 10 March only January and February are full months: too few to tell a spread
    assert realisation_spread(analytics, load_snapshot(analytics, dt.date(2026, 3, 10))) is None
