"""`pssync init` -> `config check` -> `pssync sync` works the first time, against a sandbox
Salesforce org holding only what a user put there, in one currency (no CurrencyIsoCode)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from simple_salesforce import Salesforce
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.sandbox.up import Sandbox
from pssync.store import GoldenStore, open_engine

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.fixture
def org(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An empty sandbox Salesforce org (no firm): its `describe()` entry."""
    with Sandbox.start_all(systems=["salesforce"], empty=True, state_dir=tmp_path / "sf") as box:
        yield box.describe()["salesforce"]


def _client(info: dict[str, Any]) -> Salesforce:
    session = requests.Session()
    session.trust_env = False
    session.headers["Connection"] = "close"
    session.verify = info["ca_file"]
    creds = info["credentials"]
    return Salesforce(
        instance_url=creds["instance_url"],
        session_id=creds["session_id"],
        session=session,
        version="59.0",
    )


def _load_own_data(sf: Salesforce) -> dict[str, str]:
    """Two accounts and three deals, typed in as a user would (no currency field anywhere)."""
    ids = {}
    for name in ("Acme Services", "Beta Tech"):
        ids[name] = sf.Account.create({"Name": name, "Industry": "Technology"})["id"]
    deals = [
        ("Acme ERP rollout", "Acme Services", "Prospecting", "120000"),
        ("Acme data platform", "Acme Services", "Closed Won", "80000"),
        ("Beta cloud move", "Beta Tech", "Negotiation/Review", "45000.50"),
    ]
    for name, account, stage, amount in deals:
        sf.Opportunity.create(
            {
                "Name": name,
                "AccountId": ids[account],
                "StageName": stage,
                "CloseDate": "2027-03-31",
                "Amount": float(amount),
            }
        )
    return ids


def test_init_then_check_then_sync_works_the_first_time(
    org: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load_own_data(_client(org))
    work = tmp_path / "firm"
    work.mkdir()
    monkeypatch.chdir(work)
    creds = org["credentials"]
    init = runner.invoke(
        app,
        [
            "init",
            "--crm",
            "salesforce",
            "--currency",
            "USD",
            "--non-interactive",
            "--crm-url",
            creds["instance_url"],
            "--set",
            f"connectors.crm.client_id={creds['client_id']}",
            "--set",
            f"connectors.crm.options.ca_file={org['ca_file']}",
        ],
    )
    assert init.exit_code == 0, init.output
    assert "PSSYNC__CONNECTORS__CRM__CLIENT_SECRET" in init.output
    written = yaml.safe_load((work / "pssync.yaml").read_text())
    assert "mapping" not in written["connectors"]["crm"]  # its own mapping, without naming it

    monkeypatch.setenv("PSSYNC__CONNECTORS__CRM__CLIENT_SECRET", creds["client_secret"])
    check = runner.invoke(app, ["config", "check", "--json"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.output)["ok"] is True

    sync = runner.invoke(app, ["sync", "--json", "--wait", "30"])
    assert sync.exit_code == 0, sync.output
    captured = {row["object"]: row for row in json.loads(sync.output)["captures"]}
    assert captured["Opportunity"].get("applied") == 3, captured

    store = GoldenStore(open_engine("sqlite:///pssync.db"))
    deals = {v.payload["name"]: v.payload for v in store.iter_records("Opportunity")}
    assert deals["Beta cloud move"]["amount"] == {"amount": "45000.5", "currency": "USD"}
    assert {d["amount"]["currency"] for d in deals.values()} == {"USD"}
    accounts = {v.payload["name"] for v in store.iter_records("Account")}
    assert accounts == {"Acme Services", "Beta Tech"}
    listed = runner.invoke(app, ["exceptions", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output) == [], listed.output
