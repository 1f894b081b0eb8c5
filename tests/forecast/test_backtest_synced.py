"""`pssync backtest` on a synced store, without `--known-now`: the truth's scores, no look-ahead.

Product path: `pssync demo --deal-desk` (the small firm in the six emulators -> the connectors'
first sync, each backfilling history in valid time from the vendor's own records -> the deal
desk's fix of the firm's planted free-text categories -> the golden store), then `pssync
backtest --json` in the same directory, as a user would, against the same backtest on the
firm's truth loaded with `load_truth` (each fact recorded at its valid time, so no look-ahead by
construction); and the forecasts as of a date must not change when everything valid after that
date is removed from the synced mirror.
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

# The demo and two backtests take ~2 minutes on a quiet 2-core machine; more under load.
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(1200)]

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


@pytest.fixture(scope="module")
def scores(synced: tuple[Path, dt.date]) -> tuple[dict[str, float], dict[str, float]]:
    """Next-quarter WAPE by method: `pssync backtest --json` on the synced store, and the same
    backtest on the firm's truth."""
    cwd, today = synced
    card = _cli(cwd, "backtest", "--json", "--quarters", str(QUARTERS))
    dates = [dt.date.fromisoformat(d) for d in card["as_of_dates"]]
    assert dates == last_realised_quarters(today, QUARTERS)
    truth = AnalyticsStore()
    load_truth(truth, firm_truth("small", 0, today).lines)
    expected = build_scorecard(backtest_run(truth, dates, realised_as_of=today))
    ours = {r["method"]: float(r["wape"]) for r in card["next_quarter"]}
    theirs = {r["method"]: float(r["wape"]) for r in expected["next_quarter"]}
    assert set(ours) == set(theirs) and ours["model"] < 1  # not every point scored against 0
    return ours, theirs


def test_the_baselines_score_like_the_truth(
    scores: tuple[dict[str, float], dict[str, float]],
) -> None:
    """The run-rate reads the recognised revenue as of each T, the CRM baseline every open
    deal's stage, amount and close date as of T and the backlog: the synced store's equal the
    truth's. The model and the bottom-up are near (see the next test)."""
    ours, theirs = scores
    for method in ("run_rate", "crm_pipeline"):
        assert abs(ours[method] - theirs[method]) <= TOLERANCE, (method, ours, theirs)
    for method in ("model", "bottom_up"):
        assert abs(ours[method] - theirs[method]) <= 5 * TOLERANCE, (method, ours, theirs)


@pytest.mark.xfail(
    strict=True,
    reason="issue 13 acceptance not met yet on this window: the model differs by 1.5 points "
    "(the weighted pipeline's placement as of T; docs/forecast.md, 'The backtest on a synced "
    "store')",
)
def test_every_method_scores_within_a_point_of_the_truth(
    scores: tuple[dict[str, float], dict[str, float]],
) -> None:
    ours, theirs = scores
    for method, wape in theirs.items():
        assert abs(ours[method] - wape) <= TOLERANCE, (method, ours, theirs)


def test_nothing_valid_after_the_as_of_date_changes_its_forecasts(
    synced: tuple[Path, dt.date],
) -> None:
    """The synced mirror cut at T (every version valid after T removed) forecasts the same as
    of T as the whole mirror: the backtest reads nothing the firm did after T."""
    cwd, today = synced
    whole = _mirror(cwd)
    as_of = last_realised_quarters(today, QUARTERS)[0]
    cut = _mirror(cwd)
    cut.con.execute(
        "DELETE FROM record_versions WHERE valid_from > $t", {"t": as_of_instant(as_of)}
    )
    cut.mark_loaded("cut", whole.high_water_mark + dt.timedelta(microseconds=1))  # re-typed

    def versions(analytics: AnalyticsStore) -> int:
        return len(analytics.con.execute("SELECT version_id FROM record_versions").fetchall())

    assert versions(cut) < versions(whole)

    def forecasts(analytics: AnalyticsStore) -> dict[tuple[Any, ...], Any]:
        points = backtest(analytics, [as_of], realised_as_of=today)
        return {(p.method, p.month, p.service_line): p.forecast for p in points if p.forecast}

    ours = forecasts(whole)
    assert ours and ours == forecasts(cut)
