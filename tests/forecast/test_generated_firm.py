"""On the synthetic firm (when the generator is present): its planted worked example holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from pssync.forecast import AnalyticsStore, Component, run_forecast
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import import_lines

firm_module = pytest.importorskip("pssync.sandbox.firm.generate")


def test_generated_firm_forecast_reconciles_and_moves_the_worked_example(tmp_path: Path) -> None:
    firm = firm_module.generate_firm("small", 7)
    store = GoldenStore(open_engine(f"sqlite:///{tmp_path / 'g.db'}"))
    report = import_lines(store, firm.truth_lines())
    assert not report.rejected
    analytics = AnalyticsStore()
    analytics.sync(store)
    today: dt.date = firm_module.DEFAULT_TODAY
    # bulk-loaded history: recorded times are the load time, so read it as known now
    result = run_forecast(analytics, today, horizon=12, known_at=analytics.high_water_mark)
    assert result.total() > 0
    assert sum(c["revenue"] for c in result.cells()) == result.total()
    parts = sum((result.total(c) for c in Component), Decimal(0))
    assert parts == result.total()
    placement = result.placements.get("opp-worked-example")
    if placement is None:
        pytest.skip("this generator version plants no opp-worked-example")
    assert (placement.requested_start.month, placement.start.month) == (7, 8)
