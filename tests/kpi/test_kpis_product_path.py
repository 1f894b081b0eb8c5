"""The KPIs on the product path, small firm: sandbox -> connectors -> engine -> golden store
(`pssync demo`, its deal desk fixing the reps' free-text categories so every deal is synced),
then `pssync kpis` and `pssync fidelity` on what it synced, against the same KPIs computed on
the firm's truth (`load_truth`). Acceptance: within two points (docs/fidelity.md).

Each KPI here depends on valid time from the source: the project-code SLA on when each ERP made
its project (the file drop's audit stamps), the forecast variance on a forecast made a quarter
back, which must see the contracts, schedules and deal estimates as they were then.
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

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.kpi import project_code_sla

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CLI = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
POINTS = 0.02


def pssync(cwd: Path, *args: str) -> Any:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("kpis")
    # One business day a step (bench_fidelity's setting): a ten-day step polls the firm once
    # per ten days, later than the project-code SLA's five days.
    args = ("--clock-steps", "1", "--days-per-step", "1", "--deal-desk")
    pssync(cwd, "demo", "--no-serve", "--json", *args)
    return cwd


def test_project_code_sla_is_the_firms(synced: Path) -> None:
    """Every ERP's project is coded when that ERP made it: the file drop's exports carry the
    ERP's audit stamps, so its projects are not coded on the day pssync first read them."""
    kpis = pssync(synced, "kpis", "--json")
    truth = AnalyticsStore()
    try:
        load_truth(truth, (synced / "pssync-truth.jsonl").read_text().splitlines())
        want = project_code_sla(truth, dt.date.fromisoformat(kpis["as_of"]))
    finally:
        truth.close()
    got = kpis["project_code_sla"]
    assert got["due"] == want["due"] > 10
    assert abs(got["share"] - want["share"]) <= POINTS, (got, want)


def test_forecast_variance_is_the_firms(synced: Path) -> None:
    """The forecast made a quarter back sees what the firm knew then: contracts and schedules
    from when the ERP made them, each deal's estimate in its earlier stages."""
    report = pssync(synced, "fidelity", "--against", "pssync-truth.jsonl", "--json")
    row = report["kpis"]["forecast_variance"]
    assert row["truth"] is not None and row["synced"] is not None
    assert abs(row["synced"] - row["truth"]) <= POINTS, row
