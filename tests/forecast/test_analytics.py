"""The DuckDB mirror: typed as-of tables, incremental sync by high-water mark, bitemporal reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import FirmWriter, at, usd

from pssync.forecast.analytics import AnalyticsStore
from pssync.model import Opportunity


def _opp(stage: str, probability: int, amount: str = "1000.10") -> Opportunity:
    return Opportunity(
        id="opp-1",
        account_id="acc-1",
        name="Deal",
        stage=stage,
        probability=Decimal(probability),
        amount=usd(amount),
        close_date=dt.date(2026, 6, 30),
    )


def test_as_of_tables_hold_the_version_valid_and_known_then(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(_opp("Qualify", 20), at("2026-02-01"))
    firm.put(_opp("Propose", 50, "2000.55"), at("2026-04-01"))
    analytics = AnalyticsStore()
    analytics.sync(firm.store)

    analytics.materialize(dt.date(2026, 3, 1))
    row = analytics.con.execute("SELECT stage, amount, amount_currency FROM opportunity").fetchall()
    assert row == [("Qualify", Decimal("1000.10"), "USD")]

    analytics.materialize(dt.date(2026, 4, 1))
    row = analytics.con.execute("SELECT stage, amount FROM opportunity").fetchall()
    assert row == [("Propose", Decimal("2000.55"))]

    analytics.materialize(dt.date(2026, 1, 15))
    assert analytics.con.execute("SELECT count(*) FROM opportunity").fetchall() == [(0,)]


def test_known_at_hides_facts_recorded_later(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(_opp("Qualify", 20), at("2026-02-01"))
    # backdated correction: valid from March, but only recorded in May
    firm.put(_opp("Propose", 50), at("2026-03-01"), recorded_at=at("2026-05-01"))
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    analytics.materialize(dt.date(2026, 4, 1))
    assert analytics.con.execute("SELECT stage FROM opportunity").fetchall() == [("Qualify",)]
    analytics.materialize(dt.date(2026, 4, 1), known_at=at("2026-06-01"))
    assert analytics.con.execute("SELECT stage FROM opportunity").fetchall() == [("Propose",)]


def test_sync_is_incremental_and_catches_closed_versions(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(_opp("Qualify", 20), at("2026-02-01"))
    analytics = AnalyticsStore(tmp_path / "a.duckdb")
    first = analytics.sync(firm.store)
    assert first.full and first.rows == 1
    assert analytics.sync(firm.store).rows == 1  # only the boundary row, re-read and upserted
    firm.put(_opp("Propose", 50), at("2026-04-01"))
    report = analytics.sync(firm.store)
    assert not report.full
    # the old version was closed and split (1 closed + 1 split + 1 new), nothing else re-read
    assert report.rows == 3
    assert report.high_water_mark == at("2026-04-01")
    analytics.close()

    reopened = AnalyticsStore(tmp_path / "a.duckdb")
    assert reopened.high_water_mark == at("2026-04-01")
    total = reopened.con.execute("SELECT count(*) FROM record_versions").fetchall()
    assert total == [(3,)]


def test_input_digest_changes_with_inputs(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(_opp("Qualify", 20), at("2026-02-01"))
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    analytics.materialize(dt.date(2026, 3, 1))
    before = analytics.input_digest()
    firm.put(_opp("Propose", 50), at("2026-02-15"))
    analytics.sync(firm.store)
    analytics.materialize(dt.date(2026, 3, 1))
    assert analytics.input_digest() != before


def test_input_digest_covers_reference_data(tmp_path: Path) -> None:
    from pssync.model import Region

    firm = FirmWriter(tmp_path / "g.db")
    firm.put(_opp("Qualify", 20), at("2026-02-01"))
    firm.put(Region(id="reg", code="NA", name="NA"), at("2026-02-01"))
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    analytics.materialize(dt.date(2026, 3, 1))
    before = analytics.input_digest()
    firm.put(
        Region(id="reg", code="NA", name="NA", holidays=[dt.date(2026, 7, 3)]), at("2026-02-10")
    )
    analytics.sync(firm.store)
    analytics.materialize(dt.date(2026, 3, 1))
    assert analytics.input_digest() != before


def test_queries_draw_no_progress_bar_on_stdout() -> None:
    """A command's stdout is its answer (`pssync kpis --json`): DuckDB's progress bar, on by
    default and drawn there for any query past two seconds, is off."""
    analytics = AnalyticsStore()
    setting = "SELECT current_setting('enable_progress_bar')"
    assert analytics.con.execute(setting).fetchall() == [(False,)]
    analytics.close()
