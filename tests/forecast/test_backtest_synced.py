"""`pssync backtest` on a synced store, without `--known-now`: the truth's scores, no look-ahead.

Product path: `pssync demo --deal-desk` (the small firm in the six emulators -> the connectors'
first sync, each backfilling history in valid time from the vendor's own records -> the deal
desk's fix of the firm's planted free-text categories -> the golden store), then `pssync
backtest --json` in the same directory, as a user would. The same backtest on the firm's truth
loaded with `load_truth` (each fact recorded at its valid time, so no look-ahead by construction)
must score the same within a point of WAPE; and the forecasts as of a date must not change when
everything valid after that date is removed from the synced mirror.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pssync.demo.firm_truth import firm_truth
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backtest import backtest, backtest_run, last_realised_quarters
from pssync.forecast.bulkload import load_truth
from pssync.forecast.scorecard import build_scorecard
from pssync.planning.periods import as_of_instant
from pssync.store import GoldenStore, open_engine

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CLI = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
QUARTERS = 2
TOLERANCE = 0.01  # one point of WAPE


def _cli(cwd: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout)
    return out


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.date]:
    cwd = tmp_path_factory.mktemp("backtest-synced")
    today = dt.datetime.now(dt.UTC).date()
    _cli(cwd, "demo", "--json", "--deal-desk", "--clock-steps", "0")
    return cwd, today


def _mirror(cwd: Path) -> AnalyticsStore:
    engine = open_engine(f"sqlite:///{cwd / 'pssync.db'}")
    try:
        analytics = AnalyticsStore()
        analytics.sync(GoldenStore(engine))
        return analytics
    finally:
        engine.dispose()


def test_pssync_backtest_scores_like_the_truth(synced: tuple[Path, dt.date]) -> None:
    cwd, today = synced
    card = _cli(cwd, "backtest", "--json", "--quarters", str(QUARTERS))
    dates = [dt.date.fromisoformat(d) for d in card["as_of_dates"]]
    assert dates == last_realised_quarters(today, QUARTERS)
    truth = AnalyticsStore()
    load_truth(truth, firm_truth("small", 0, today).lines)
    expected = build_scorecard(backtest_run(truth, dates, realised_as_of=today))
    theirs = {r["method"]: r["wape"] for r in expected["next_quarter"]}
    ours = {r["method"]: r["wape"] for r in card["next_quarter"]}
    assert set(ours) == set(theirs)
    assert float(ours["model"]) < 1  # forecasts something: not every point scored against 0
    for method, wape in theirs.items():
        assert abs(float(ours[method]) - float(wape)) <= TOLERANCE, (method, ours, theirs)


def test_nothing_valid_after_the_as_of_date_changes_its_forecasts(
    synced: tuple[Path, dt.date],
) -> None:
    """The synced mirror cut at T (every version valid after T removed) forecasts the same as
    of T as the whole mirror: the backtest reads nothing the firm did after T."""
    cwd, today = synced
    whole = _mirror(cwd)
    as_of = last_realised_quarters(today, QUARTERS)[0]
    cut = AnalyticsStore()
    rows = whole.con.execute(
        "SELECT * FROM record_versions WHERE valid_from <= $t", {"t": as_of_instant(as_of)}
    ).arrow()
    cut.con.register("kept", rows)
    cut.con.execute("INSERT INTO record_versions SELECT * FROM kept")
    cut.con.unregister("kept")
    cut.mark_loaded("cut", whole.high_water_mark)
    assert cut.con.execute("SELECT count(*) FROM record_versions").fetchone() < (
        whole.con.execute("SELECT count(*) FROM record_versions").fetchone()
    )

    def forecasts(analytics: AnalyticsStore) -> dict[tuple[Any, ...], Any]:
        points = backtest(analytics, [as_of], realised_as_of=today)
        return {(p.method, p.month, p.service_line): p.forecast for p in points if p.forecast}

    ours = forecasts(whole)
    assert ours and ours == forecasts(cut)
