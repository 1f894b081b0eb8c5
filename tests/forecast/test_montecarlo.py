"""Monte Carlo bands and the bookings forecast: seeded, ordered, and anchored to the plan."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from forecast_worked_example import AS_OF, build

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.bookings import bookings_band
from pssync.forecast.calibration import calibrate
from pssync.forecast.components import Component
from pssync.forecast.montecarlo import revenue_band
from pssync.forecast.run import Scenario, forecast_snapshot
from pssync.forecast.snapshot import load_snapshot


def _setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    firm = build(tmp_path / "g.db")
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    snap = load_snapshot(analytics, AS_OF)
    return snap, calibrate(analytics, snap)


def test_band_of_one_seventy_percent_deal(tmp_path: Path) -> None:
    snap, cal = _setup(tmp_path)
    result = forecast_snapshot(snap, horizon=6, probability=cal.probability)
    band = revenue_band(result, snap, cal, n=4000, seed=3, delivery_sigma=0.0)
    horizon = band.horizon
    certain = result.total() - result.total(Component.WEIGHTED_PIPELINE)
    # lost (30%): only the contracted part; won (70%): plus the whole 300k inside the horizon
    assert abs(horizon.p10 - certain) < Decimal("3000")
    assert abs(horizon.p90 - certain - 300000) < Decimal("3000")
    assert horizon.p10 <= horizon.p50 <= horizon.p90
    assert abs(horizon.mean - result.total()) / result.total() < Decimal("0.02")
    again = revenue_band(result, snap, cal, n=4000, seed=3, delivery_sigma=0.0)
    assert again.horizon == horizon


def test_backlog_still_to_deliver_widens_the_band_around_the_same_mean(tmp_path: Path) -> None:
    snap, cal = _setup(tmp_path)
    result = forecast_snapshot(
        snap, horizon=6, scenario=Scenario("none", probability_multiplier=Decimal(0))
    )
    exact = revenue_band(result, snap, cal, n=4000, seed=3, delivery_sigma=0.0).horizon
    wobbly = revenue_band(result, snap, cal, n=4000, seed=3, delivery_sigma=0.2).horizon
    assert exact.p10 == exact.p90
    assert wobbly.p10 < exact.p50 < wobbly.p90
    assert abs(wobbly.mean - exact.mean) / exact.mean < Decimal("0.02")


def test_zero_probability_scenario_collapses_the_band(tmp_path: Path) -> None:
    snap, cal = _setup(tmp_path)
    result = forecast_snapshot(
        snap, horizon=6, scenario=Scenario("none", probability_multiplier=Decimal(0))
    )
    band = revenue_band(result, snap, cal, n=500, seed=1, overrun_sigma=0.0, delivery_sigma=0.0)
    horizon = band.horizon
    assert horizon.p10 == horizon.p90 == result.total()


def test_bookings_by_close_month_and_service_line(tmp_path: Path) -> None:
    snap, cal = _setup(tmp_path)
    rows = bookings_band(snap, cal, n=2000, seed=5, horizon=6)
    assert len(rows) == 1
    row = rows[0]
    assert (row["close_month"].isoformat(), row["service_line"]) == ("2026-06-01", "sl-erp")
    assert row["expected"] == Decimal("210000.00")
    band = row["band"]
    assert band.p10 == 0 and band.p90 == Decimal("300000.00")
