"""`pssync sync | worker | reconcile | plan` running their own loops, each in a process of its
own as a user runs them, against
the sandbox: a CRM, SAP S/4HANA, NetSuite and a file-drop ERP (the small firm, seed 7), with
the minimal `pssync.yaml` a user starts from: connectors and mappings, no `flows:` block.

The tests share one sandbox and one golden store and run in file order: the first sync, then a
bounded worker over a day of the firm's activity, then drift that plan and reconcile must see.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from pssync.config import load_settings
from pssync.demo.config import ROLES, _connector
from pssync.engine.ids import external_id
from pssync.engine.setup import connector_factory
from pssync.model import parse_record
from pssync.sandbox.up import Sandbox
from pssync.store import Change, GoldenStore, open_engine
from pssync.store.tables import exception_record

SYSTEMS = ("salesforce", "sap_s4", "netsuite", "filedrop")
PSSYNC = str(Path(sys.executable).parent / "pssync")


@dataclass
class Ran:
    exit_code: int
    stdout: str
    output: str


@dataclass
class Env:
    sandbox: Sandbox
    config: Path
    store: GoldenStore

    def cli(self, *args: str) -> Ran:
        """Run `pssync ARGS --config FILE` in a process of its own, as a user would."""
        done = subprocess.run(
            [PSSYNC, *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=self.config.parent,
        )
        return Ran(done.returncode, done.stdout, done.stdout + done.stderr)

    def exceptions(self, **where: Any) -> list[Any]:
        xr = exception_record.c
        stmt = select(exception_record)
        for name, value in where.items():
            stmt = stmt.where(getattr(xr, name) == value)
        with self.store.engine.connect() as conn:
            return list(conn.execute(stmt))

    def workflow_states(self) -> dict[str, int]:
        """Workflow statuses in DBOS's system database (SQLite, next to the golden store)."""
        path = self.config.parent / "pssync.dbos.sqlite"
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT status, count(*) FROM workflow_status GROUP BY status")
            return {str(status): int(n) for status, n in rows}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("engine-cli")
    sandbox = Sandbox.start_all("small", 7, state_dir=base / "state", systems=SYSTEMS)
    try:
        described = sandbox.describe()
        config = {
            "database_url": f"sqlite:///{base / 'pssync.db'}",
            "analytics_path": str(base / "pssync.duckdb"),
            "connectors": {name: _connector(name, described[name]) for name in SYSTEMS},
        }
        assert all(ROLES[name] for name in SYSTEMS)
        path = base / "pssync.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        engine = open_engine(config["database_url"])
        yield Env(sandbox, path, GoldenStore(engine))
        engine.dispose()
    finally:
        sandbox.stop()


def test_sync_captures_every_system_and_governs_without_flows(env: Env) -> None:
    result = env.cli("sync", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["deliveries_done"] is True
    captured = {(row["system"], row["object"]) for row in out["captures"]}
    assert {"salesforce", "sap_s4", "netsuite", "filedrop"} <= {s for s, _ in captured}
    assert out["after_poll"] == {"repointed": 0}
    accounts = list(env.store.iter_records("Account"))
    assert accounts
    # Governance ran with no `flows:` block: data-quality flags and identity resolution.
    flagged = {row.category for row in env.exceptions() if '"stage": "govern"' in row.details}
    assert {"missing_legal_entity", "duplicate_customer"} & flagged, flagged
    linked = [a for a in accounts if {"salesforce", "netsuite"} <= _systems(a.payload)]
    assert linked, "no NetSuite customer joined the CRM account it names"


def test_the_builtin_account_route_only_targets_erps_that_map_business_partners(env: Env) -> None:
    """Issue 14 defect 15: `account_to_erp` sent `A_BusinessPartner` to NetSuite and the file
    drop, whose mappings have no such object; every such workflow failed in the background."""
    assert "ERROR" not in env.workflow_states(), env.workflow_states()
    failed = env.exceptions(category="delivery_failed")
    assert not [row for row in failed if row.system in ("netsuite", "filedrop")]
    partners = {p["BusinessPartner"]: p for p in _sap_partners(env)}
    created = Counter(p.get("BusinessPartnerIDByExtSystem") for p in partners.values())
    crm_accounts = [
        a for a in env.store.iter_records("Account") if "salesforce" in _systems(a.payload)
    ]
    assert crm_accounts
    for account in crm_accounts:  # SAP holds every CRM account, pssync created none twice
        number = account.payload["xrefs"].get("sap_s4:A_BusinessPartner")
        ext = external_id("Account", account.record_id)
        assert number in partners or created[ext] == 1, account.payload
        assert created[ext] <= 1


def test_a_bounded_worker_runs_its_cycles_and_stops_once_idle(env: Env) -> None:
    changes = env.sandbox.advance(2)
    assert changes
    with env.store.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(exception_record)).scalar_one()
    result = env.cli("worker", "--max-cycles", "2", "--interval", "0")
    assert result.exit_code == 0, result.output
    assert "worker started" in result.output
    assert "'applied'" in result.output  # the day's changes were captured and applied
    assert "ERROR" not in env.workflow_states()
    with env.store.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(exception_record)).scalar_one()
    assert after >= before


def test_plan_and_reconcile_see_a_partner_renamed_in_sap(env: Env) -> None:
    settings = load_settings(env.config)
    sap = connector_factory(settings.connectors["sap_s4"])()
    try:
        ours = {external_id("Account", a.record_id) for a in env.store.iter_records("Account")}
        partner = next(
            p for p in _sap_partners(env) if p.get("BusinessPartnerIDByExtSystem") in ours
        )
        number = partner["BusinessPartner"]
        renamed = {
            "BusinessPartner": partner["BusinessPartner"],
            "OrganizationBPName1": "Renamed In SAP",
        }
        (outcome,) = sap.upsert("A_BusinessPartner", "BusinessPartner", [renamed])
        assert outcome.error is None
    finally:
        sap.close()

    planned = env.cli("plan", "--json")
    assert planned.exit_code == 0, planned.output
    keys = {number, partner["BusinessPartnerIDByExtSystem"]}
    everything = json.loads(planned.stdout)
    writes = [w for w in everything if w["external_id"] in keys]
    assert writes, everything
    assert [w["action"] for w in writes] == ["update"]
    assert writes[0]["fields"]["OrganizationBPName1"][0] == "Renamed In SAP"

    checked = env.cli("reconcile", "--system", "sap_s4", "--json")
    assert checked.exit_code == 0, checked.output
    (report,) = [r for r in json.loads(checked.stdout) if r["object"] == "A_BusinessPartner"]
    assert report["checked"] > 0
    assert report["drift"], report


def _systems(payload: dict[str, Any]) -> set[str]:
    return {key.partition(":")[0] for key in payload.get("xrefs", {})}


def _sap_partners(env: Env) -> list[dict[str, Any]]:
    """SAP's business partners, read through its OData API."""
    settings = load_settings(env.config)
    sap = connector_factory(settings.connectors["sap_s4"])()
    try:
        return [
            record.data for page in sap.snapshot("A_BusinessPartner") for record in page.records
        ]
    finally:
        sap.close()


def test_a_failed_delivery_is_replayed_from_the_cli(env: Env) -> None:
    """Issue 14 defect 11: `pssync exceptions replay --category delivery_failed` answered
    "the sync engine is not configured in this process"; the CLI now starts the engine."""
    crm = env.sandbox.firm.views["salesforce"]["Account"]
    # A CRM-only customer: SAP's Name 1 carries its account name (no legal name known).
    golden_ids = {
        a.payload["xrefs"].get("salesforce:Account"): a
        for a in env.store.iter_records("Account")
        if not a.payload.get("legal_name")
    }
    row = dict(next(r for r in crm if r["Id"] in golden_ids))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    too_long = "Replay Needed Because This Name Is Far Too Long For SAP Name 1"  # > 40
    row |= {"Name": too_long, "SystemModstamp": stamp, "LastModifiedDate": stamp}
    env.sandbox.emulators["salesforce"].seed({"Account": [row]})
    synced = env.cli("sync", "--system", "salesforce", "--json")
    assert synced.exit_code == 0, synced.output
    account = golden_ids[row["Id"]].record_id
    (failed,) = [r for r in env.exceptions(record_id=account) if r.system == "sap_s4"]
    assert failed.category == "delivery_failed" and failed.state == "open", failed

    again = env.cli("exceptions", "replay", "--category", "delivery_failed", "--json")
    assert again.exit_code == 1  # replayed through the engine; SAP still refuses the name
    assert "not configured" not in again.output
    (outcome,) = [o for o in json.loads(again.stdout) if o["id"] == failed.id]
    assert outcome["state"] == "open"

    golden = env.store.get("Account", account)
    assert golden is not None
    fixed = parse_record("Account", {**golden.payload, "name": "Replayed Name GmbH"})
    env.store.write([Change(fixed, dt.datetime.now(dt.UTC), "salesforce")])
    replayed = env.cli("exceptions", "replay", failed.id, "--json")
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)[0]["state"] == "resolved"
    names = [p.get("OrganizationBPName1") for p in _sap_partners(env)]
    assert "Replayed Name GmbH" in names
