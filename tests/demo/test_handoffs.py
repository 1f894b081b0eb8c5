"""The closed-won handoff in `pssync demo`, run as a user runs it (a real process).

The firm's clock plays six weeks in three steps, so its reps win deals while pssync watches
(a small firm wins about one a month), with the deal desk's fix so the free-text deals land.
Each deal the firm won during the run is handed off to the ERP of its legal entity, or held by
an open exception that says why; deals won before are linked to the firm's own ERP project.
Which deals the window holds depends on the day the test runs (the demo's firm ends today), so
the handoff of a deal won while pssync runs is asserted on a fixed date by
tests/flows/test_worker_handoff.py; here, every win is accounted for.
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

from pssync.demo.handoffs import handoff_summary
from pssync.store import GoldenStore, open_engine

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(1500)]

CLI = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
STEP_DAYS = 14


def pssync(cwd: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    cwd = tmp_path_factory.mktemp("handoff-demo")
    args = ("--clock-steps", "3", "--days-per-step", str(STEP_DAYS), "--deal-desk")
    done = pssync(cwd, "demo", "--no-serve", "--json", *args, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return cwd, json.loads(done.stdout)


def test_valid_won_deals_are_handed_off_and_the_rest_say_why(
    run: tuple[Path, dict[str, Any]],
) -> None:
    _, summary = run
    handoff = summary["flows"]["handoff"]
    assert handoff["won_during_run"] >= 1, "the firm's reps won nothing in six weeks"
    assert handoff["waiting"] == 0, handoff["deals"]["waiting"]
    if handoff["valid_won_during_run"]:
        assert handoff["handed_off_share"] >= 0.9
    for deal in handoff["deals"]["blocked"]:
        assert deal["exceptions"] and all(e["message"] for e in deal["exceptions"]), deal
    before = handoff["won_before_run"]
    assert before["linked"] > 0 and before["waiting"] == 0, before


def test_a_handed_off_deal_has_its_erp_project_and_the_crm_its_code(
    run: tuple[Path, dict[str, Any]],
) -> None:
    cwd, summary = run
    store = GoldenStore(open_engine(f"sqlite:///{cwd}/pssync.db"))
    erps = {"netsuite", "sap_s4", "filedrop"}
    for deal in summary["flows"]["handoff"]["deals"]["handed_off"]:
        projects = [
            v.payload
            for v in store.iter_records("Project")
            if v.payload.get("opportunity_id") == deal["golden_id"]
        ]
        assert len(projects) == 1, projects  # one project: the PSA's and the ERP's joined
        project = projects[0]
        assert project["project_code"].startswith("PRJ-"), project
        systems = {key.partition(":")[0] for key in store.xrefs("Project", project["id"])}
        assert systems & erps, systems  # the ERP of its legal entity holds it
        crm_id = store.xrefs("Opportunity", deal["golden_id"])["salesforce:Opportunity"]
        with store.engine.connect() as conn:
            written = conn.exec_driver_sql(
                "select payload from engine_delivery where system = 'salesforce' "
                "and object = 'Opportunity' and target_id = ?",
                (crm_id,),
            ).scalar_one()
        assert json.loads(written)["ERP_Project_Code__c"] == project["project_code"]


def test_the_summary_is_what_the_state_holds(run: tuple[Path, dict[str, Any]]) -> None:
    """`handoff_summary` on the state the demo left, against the truth it wrote, agrees."""
    cwd, summary = run
    store = GoldenStore(open_engine(f"sqlite:///{cwd}/pssync.db"))
    lines = (cwd / "pssync-truth.jsonl").read_text(encoding="utf-8").splitlines()
    start = min(day["day"] for day in summary["live"])
    first = dt.date.fromisoformat(start) - dt.timedelta(days=STEP_DAYS)
    again = handoff_summary(store, lines, first)
    assert json.loads(json.dumps(again, default=str)) == summary["flows"]["handoff"]
