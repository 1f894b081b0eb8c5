"""The demo's deal desk: the reps' free-text categories mapped in pssync.yaml, the held deals
replayed (`pssync demo --deal-desk`), as a firm's admin fixes a planted problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from pssync.config.settings import Settings
from pssync.demo.deal_desk import add_crosswalk, firm_vocabulary
from pssync.flows.opportunity_to_project import draft_project_id
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.firm.misalign import FREE_TEXT_SERVICE_CATEGORY
from pssync.store import GoldenStore, open_engine

CLI = [sys.executable, "-c", "from pssync.cli.main import app; app()"]


def test_the_vocabulary_maps_each_planted_category_to_the_deals_service_line() -> None:
    firm = generate_firm("small")
    vocabulary = firm_vocabulary(firm)
    deals = {row["Id"]: row for row in firm.views["salesforce"]["Opportunity"]}
    truth = {o.category_text: f"sl-{o.service_line.lower()}" for o in firm.opps}
    planted = [m for m in firm.misalignments if m.kind == FREE_TEXT_SERVICE_CATEGORY]
    assert planted
    for m in planted:
        text = deals[m.record_id]["Service_Category__c"]
        if text in vocabulary:  # the rest the shipped crosswalk maps already (a line's name)
            assert vocabulary[text] == truth[text], text
    assert all(v.startswith("sl-") for v in vocabulary.values())


def test_the_crosswalk_lands_in_pssync_yaml_and_the_file_stays_valid(tmp_path: Path) -> None:
    config = tmp_path / "pssync.yaml"
    config.write_text(
        "# written by `pssync demo`\n"
        + yaml.safe_dump({"database_url": "sqlite:///x.db", "crosswalks": {"region": {"N": "n"}}})
    )
    settings = add_crosswalk(config, {"erp impl.": "sl-erp"})
    assert settings.crosswalks == {"region": {"N": "n"}, "service_line": {"erp impl.": "sl-erp"}}
    text = config.read_text()
    assert text.startswith("# written by `pssync demo`\n")
    assert Settings(**yaml.safe_load(text)).crosswalks["service_line"] == {"erp impl.": "sl-erp"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """`pssync demo --deal-desk` run once: sandbox -> sync (deals held for their free-text
    category) -> crosswalk fix in pssync.yaml -> replay -> PSA re-read -> flows."""
    cwd = tmp_path_factory.mktemp("desk")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["demo", "--json", "--deal-desk", "--max-pages", "2", "--clock-steps", "0"]
    done = subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return cwd, json.loads(done.stdout)


@pytest.mark.e2e
@pytest.mark.integration
def test_demo_deal_desk_replays_every_held_deal(desk: tuple[Path, dict[str, Any]]) -> None:
    tmp_path, summary = desk
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    desk_report = summary["deal_desk"]
    assert desk_report["held"] > 0
    assert desk_report["resolved"] == desk_report["held"] and desk_report["still_open"] == 0
    config = yaml.safe_load((tmp_path / "pssync.yaml").read_text())
    assert config["crosswalks"]["service_line"] == desk_report["mapped_values"]
    listed = subprocess.run(
        [*CLI, "exceptions", "list", "--category", "unmapped_value", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert [e for e in json.loads(listed.stdout) if e["state"] in ("open", "assigned")] == []


@pytest.mark.e2e
@pytest.mark.integration
def test_workspaces_read_while_their_deal_was_held_link_to_it_after_the_replay(
    desk: tuple[Path, dict[str, Any]],
) -> None:
    """A workspace read while its deal was held names the deal by its CRM ID; once the deal is
    fixed and replayed, the workspace is the deal's one project (no second one drafted), and
    its staffing requests and bookings take the region and rate that come from the deal."""
    cwd, _ = desk
    truth = [json.loads(line) for line in (cwd / "pssync-truth.jsonl").open()]
    crm_id = {
        t["payload"]["id"]: t["payload"]["xrefs"].get("salesforce:Opportunity")
        for t in truth
        if t["entity_type"] == "Opportunity"
    }
    deal_of = {
        t["payload"]["xrefs"]["kantata:workspaces"]: crm_id.get(t["payload"].get("opportunity_id"))
        for t in truth
        if t["entity_type"] == "Project" and "kantata:workspaces" in t["payload"]["xrefs"]
    }
    store = GoldenStore(open_engine(f"sqlite:///{cwd}/pssync.db"))
    deals = {
        str(v.payload["xrefs"].get("salesforce:Opportunity")): str(v.payload["id"])
        for v in store.iter_records("Opportunity")
    }
    projects = [v.payload for v in store.iter_records("Project")]
    unlinked = []
    for p in projects:
        deal = deals.get(str(deal_of.get(str(p["xrefs"].get("kantata:workspaces")))))
        if deal is not None and p.get("opportunity_id") != deal:
            unlinked.append((p["id"], deal, p.get("opportunity_id")))
    assert unlinked == []
    # The PSA side of a deal is one project: its workspace, or else the draft the flows make.
    psa = [
        p
        for p in projects
        if "kantata:workspaces" in p["xrefs"]
        or p["id"] == draft_project_id(str(p.get("opportunity_id")))
    ]
    per_deal = Counter(p.get("opportunity_id") for p in psa if p.get("opportunity_id"))
    assert sorted(d for d, n in per_deal.items() if n > 1) == []
    # Fields pssync takes from the deal through the project: a staffing request's region (when
    # the deal has one: an account refused for its tax code leaves it open), a booking's rate.
    projects_by_id = {str(p["id"]): p for p in projects}
    requests = [v.payload for v in store.iter_records("ResourceRequest")]
    empty = [
        r["id"]
        for r in requests
        if not r.get("region_id") and _deal_region(store, projects_by_id.get(r["project_id"]))
    ]
    assert empty == []
    bookings = [v.payload for v in store.iter_records("Assignment")]
    assert [b["id"] for b in bookings if not b.get("bill_rate")] == []


def _deal_region(store: GoldenStore, project: dict[str, Any] | None) -> str | None:
    """The region of the deal `project` delivers, if it has one."""
    deal = store.get("Opportunity", str(project.get("opportunity_id"))) if project else None
    return str(deal.payload["region_id"]) if deal and deal.payload.get("region_id") else None
