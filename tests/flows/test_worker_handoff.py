"""A bounded `pssync worker` hands off a deal the firm wins while it runs (docs/flows.md).

The demo's `pssync.yaml` (flows on) over the sandbox firm, in processes of their own as a user
runs them: the firm's reference data by `pssync import`, `pssync sync`, then the firm's clock
plays three weeks — its worked-example deal is won (its account is an existing NetSuite
customer of US01) — then `pssync worker --max-cycles` captures the win and dispatches the
handoff: the NetSuite job with a generated code, the code in golden, and the code written back
to the CRM deal. The rep's free-text category is mapped in the file first, as the firm's deal
desk does, so the deal is not held for it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pssync.demo.config import sandbox_config
from pssync.demo.run import REFERENCE_TYPES
from pssync.sandbox.up import Sandbox
from pssync.store import GoldenStore, open_engine

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(1500)]

PSSYNC = str(Path(sys.executable).parent / "pssync")
DEAL = "opp-worked-example"


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(PSSYNC, *args, "--config", str(config))


def test_a_bounded_worker_hands_off_a_deal_won_while_it_runs(tmp_path: Path) -> None:
    today = dt.date(2026, 11, 8)
    systems = ["salesforce", "kantata", "netsuite", "sap_s4", "filedrop"]
    with Sandbox.start_all(
        "small", 0, state_dir=tmp_path / "state", systems=systems, today=today
    ) as sandbox:
        config = sandbox_config(sandbox, tmp_path)
        config["crosswalks"] = {"service_line": {"Transformation": "sl-trans"}}
        path = tmp_path / "pssync.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        # The firm's reference data (regions, service lines, roles, entities, currencies, tax
        # codes, the HR master), which a firm loads once, as the demo does (`demo.run`).
        reference = tmp_path / "reference.jsonl"
        lines = [
            line
            for line in sandbox.firm.truth_lines()
            if json.loads(line)["entity_type"] in REFERENCE_TYPES
        ]
        reference.write_text("\n".join(lines) + "\n", encoding="utf-8")
        url = config["database_url"]
        loaded = run(PSSYNC, "import", str(reference), "--db", url, "--system", "reference")
        assert loaded.returncode == 0, loaded.stderr[-3000:]
        synced = cli(path, "sync", "--json")
        assert synced.returncode == 0, synced.stderr[-3000:]
        crm_id = sandbox.firm.xrefs.get(DEAL, "salesforce:Opportunity")
        store = GoldenStore(open_engine(config["database_url"]))
        _, golden_id = store.resolve_xref("salesforce", "Opportunity", crm_id) or ("", "")
        assert golden_id, "the deal is open and synced before the clock runs"
        assert not store.get("Opportunity", golden_id).payload["is_won"]  # type: ignore[union-attr]

        won = [c for c in sandbox.advance(22) if c.kind == "deal_won"]
        assert crm_id in {c.record_id for c in won}
        worked = cli(path, "worker", "--max-cycles", "2", "--interval", "0")
        assert worked.returncode == 0, worked.stderr[-3000:]

        deal = store.get("Opportunity", golden_id)
        assert deal is not None and deal.payload["is_won"]
        (project,) = [
            v.payload
            for v in store.iter_records("Project")
            if v.payload.get("opportunity_id") == golden_id
        ]
        assert project["project_code"].startswith("PRJ-US01-"), project
        assert "netsuite:job" in store.xrefs("Project", project["id"])
        job_id = store.xrefs("Project", project["id"])["netsuite:job"]
        jobs = sandbox.emulators["netsuite"].table  # type: ignore[attr-defined]
        assert jobs.get("job", job_id)["entityId"] == project["project_code"]
        with store.engine.connect() as conn:
            written = conn.exec_driver_sql(
                "select payload from engine_delivery where system = 'salesforce' "
                "and object = 'Opportunity' and target_id = ?",
                (crm_id,),
            ).scalar_one()
        assert json.loads(written)["ERP_Project_Code__c"] == project["project_code"]
        store.engine.dispose()
