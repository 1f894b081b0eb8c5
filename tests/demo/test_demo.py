"""`pssync demo` end to end, as a user runs it: a real process in an empty directory.

The run is shortened with hidden options (two pages per object on the initial sync, two clock
steps) so the suite stays within minutes; every step still runs: six emulators, the engine,
live polls, the forecast with its Monte Carlo band, the KPIs, the HTML report. Then the
after-demo commands must work on the state it left, with the emulators gone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pssync.store import GoldenStore, open_engine

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CLI = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
SYSTEMS = {"salesforce", "kantata", "netsuite", "sap_s4", "filedrop"}


def pssync(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    cwd = tmp_path_factory.mktemp("demo")
    done = pssync(
        cwd,
        "demo",
        "--no-serve",
        "--json",
        "--max-pages",
        "2",
        "--clock-steps",
        "3",
        "--days-per-step",
        "1",
        timeout=150,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return cwd, json.loads(done.stdout)


def test_summary_has_every_system_exceptions_quarters_and_kpis(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    _, summary = demo
    assert set(summary["systems"]) == SYSTEMS
    for name, info in summary["systems"].items():
        assert info["records"] > 0, name
    assert summary["store"]["records"]["Opportunity"] > 0
    assert summary["exceptions"], "the planted misalignments must raise exceptions"
    for group in summary["exceptions"]:
        assert group["category"] and group["owner"] and group["count"] > 0
    quarters = summary["forecast"]["quarters"]
    assert len(quarters) >= 4
    for q in quarters:
        assert Decimal(q["p10"]) <= Decimal(q["p50"]) <= Decimal(q["p90"]), q
    assert Decimal(summary["forecast"]["total"]) > 0
    assert set(summary["kpis"]) >= {"conversion_time", "project_code_sla", "milestone_adherence"}
    assert len(summary["live"]) == 3
    assert sum(step["captured"] for step in summary["live"]) > 0  # the clock reached the APIs


def test_after_demo_commands_read_its_state(demo: tuple[Path, dict[str, Any]]) -> None:
    cwd, summary = demo
    # The summary shows the bottom-up forecast; `pssync forecast` adds its learned layer unless
    # told not to (with history backfilled, that layer has past forecasts to learn from).
    forecast = pssync(cwd, "forecast", "--json", "--no-learn")
    assert forecast.returncode == 0, forecast.stderr
    assert json.loads(forecast.stdout)["total"] == summary["forecast"]["total"]
    kpis = pssync(cwd, "kpis", "--json")
    assert kpis.returncode == 0, kpis.stderr
    assert json.loads(kpis.stdout)["project_code_sla"] == summary["kpis"]["project_code_sla"]
    listed = pssync(cwd, "exceptions", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    open_count = sum(g["count"] for g in summary["exceptions"])
    assert len(json.loads(listed.stdout)) == open_count
    opp = next(c["opportunity_id"] for c in json.loads(forecast.stdout)["placements"])
    traced = pssync(cwd, "trace", opp, "--json")
    assert traced.returncode == 0, traced.stderr
    assert json.loads(traced.stdout)["versions"]


def test_report_is_self_contained(demo: tuple[Path, dict[str, Any]]) -> None:
    cwd, summary = demo
    page = (cwd / "pssync-report.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js inlined
    assert not re.search(r"<script[^>]+src=[\"']?https?://", page)
    assert "http://" not in page.split("<script>", 1)[0]  # no remote stylesheet either
    assert summary["forecast"]["version_id"] in page


def test_exceptions_are_the_firms_not_pssyncs_mapping_gaps(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    """Line items nest into their deal, Kantata users and invoices map: what is left open is
    the firm's planted misalignments, not `invalid_record` from pssync's own mappings."""
    cwd, summary = demo
    counts = {g["category"]: 0 for g in summary["exceptions"]}
    for group in summary["exceptions"]:
        counts[group["category"]] += group["count"]
    # SAP projects name their customer by CustomerUUID, as API_ENTERPRISE_PROJECT_SRV does, so
    # no record of pssync's own mappings is invalid any more.
    assert "invalid_record" not in counts, counts
    listed = pssync(cwd, "exceptions", "list", "--json", "--category", "invalid_record")
    assert listed.returncode == 0, listed.stderr
    objects = {e.get("object") for e in json.loads(listed.stdout)}
    assert not objects & {"OpportunityLineItem", "users", "invoices"}, objects
    lines = summary["systems"]["salesforce"]["by_object"].get("OpportunityLineItem", {})
    assert lines.get("applied", 0) > 0, lines  # nested into Opportunity.line_items


def test_every_deal_the_flows_watch_has_its_project(demo: tuple[Path, dict[str, Any]]) -> None:
    """The demo's pssync.yaml turns the flows on and the demo dispatches them after each poll.
    Every open deal at a drafting stage (Proposal/Negotiation) ends with a PSA project, drafted
    by the flow or the firm's own workspace linked to it, never both; every won deal has a coded
    ERP project (handed off by the flow or the firm's own, linked)."""
    cwd, summary = demo
    flows = summary["flows"]
    assert "flows:" in (cwd / "pssync.yaml").read_text(encoding="utf-8")
    assert flows["won_deals"] > 0 and flows["won_deals_with_erp_project"] == flows["won_deals"]
    store = GoldenStore(open_engine(f"sqlite:///{cwd}/pssync.db"))
    projects: dict[str, int] = {}
    for version in store.iter_records("Project"):
        deal = version.payload.get("opportunity_id")
        if deal:
            projects[deal] = projects.get(deal, 0) + 1
    watched = [
        v.payload["id"]
        for v in store.iter_records("Opportunity")
        if not v.payload.get("is_closed") and v.payload.get("stage") in ("Proposal", "Negotiation")
    ]
    assert watched, "no open deal at a drafting stage"
    assert all(projects.get(deal) == 1 for deal in watched), (watched, projects)
    assert flows["draft_projects"] <= len(watched)
