"""Quarter bands over a whole firm: a quarter with anything left to happen is never certain.

The product path: a generated firm's truth goes into the golden store and the analytics
mirror (or is bulk-loaded, as the world family is), is forecast as of a day inside a quarter,
and the quarter bands the demo, API and CLI show must have P10 < P50 < P90 for the current,
partly realised quarter and every later one (issue 15: no degenerate bands).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pssync.forecast import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.forecast.montecarlo import bands_as_of
from pssync.sandbox.worlds import generate_world
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import import_lines


def _bands(analytics: AnalyticsStore, as_of: dt.date) -> list[dict[str, object]]:
    return bands_as_of(analytics, as_of, known_at=analytics.high_water_mark)[1]


def _assert_open_quarters_uncertain(rows: list[dict[str, object]]) -> None:
    assert len(rows) >= 4
    for row in rows:
        p10, p50, p90 = row["p10"], row["p50"], row["p90"]
        assert p10 < p50 < p90, row  # type: ignore[operator]


def test_synced_firm_bands_are_open_from_the_current_quarter_on(tmp_path: Path) -> None:
    firm_module = pytest.importorskip("pssync.sandbox.firm.generate")
    firm = firm_module.generate_firm("small", 7)
    store = GoldenStore(open_engine(f"sqlite:///{tmp_path / 'g.db'}"))
    assert not import_lines(store, firm.truth_lines()).rejected
    analytics = AnalyticsStore()
    analytics.sync(store)
    as_of = firm_module.DEFAULT_TODAY + dt.timedelta(days=6)  # a week into a quarter's month
    _assert_open_quarters_uncertain(_bands(analytics, as_of))


def test_loaded_world_bands_are_open_from_the_current_quarter_on() -> None:
    world = generate_world(2003)
    analytics = AnalyticsStore()
    load_truth(analytics, world.truth_lines())
    as_of = world.today - dt.timedelta(days=40)  # inside a quarter, history known by then
    rows = _bands(analytics, as_of)
    assert rows[0]["quarter"].endswith(f"Q{(as_of.month - 1) // 3 + 1}")  # type: ignore[attr-defined]
    _assert_open_quarters_uncertain(rows)
