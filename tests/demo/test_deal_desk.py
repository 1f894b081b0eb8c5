"""The demo's deal desk: the reps' free-text categories mapped in pssync.yaml, the held deals
replayed (`pssync demo --deal-desk`), as a firm's admin fixes a planted problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pssync.config.settings import Settings
from pssync.demo.deal_desk import add_crosswalk, firm_vocabulary
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.firm.misalign import FREE_TEXT_SERVICE_CATEGORY

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


@pytest.mark.e2e
@pytest.mark.integration
def test_demo_deal_desk_replays_every_held_deal(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["demo", "--json", "--deal-desk", "--max-pages", "2", "--clock-steps", "0"]
    done = subprocess.run(
        [*CLI, *args], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    desk = json.loads(done.stdout)["deal_desk"]
    assert desk["held"] > 0 and desk["resolved"] == desk["held"] and desk["still_open"] == 0
    config = yaml.safe_load((tmp_path / "pssync.yaml").read_text())
    assert config["crosswalks"]["service_line"] == desk["mapped_values"]
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
