"""The CLI end to end through Typer's runner, plus the README's main command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pssync.cli.main import app

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_help_everywhere() -> None:
    for args in (
        ["--help"],
        ["import", "--help"],
        ["audit", "verify", "--help"],
        ["schema", "export", "--help"],
        ["demo", "--help"],
        ["init", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_init_writes_a_valid_file_and_refuses_to_overwrite(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert (workdir / "pssync.yaml").read_text().startswith("# pssync.yaml")
    # The starter leaves secrets to the environment: until they are set, sync could not run.
    check = runner.invoke(app, ["config", "check", "--json"])
    assert check.exit_code == 1
    keys = {p["key"] for p in json.loads(check.output)["problems"]}
    assert keys == {"connectors.crm", "connectors.psa.options.token", "connectors.erp"}
    for name in (
        "CRM__CLIENT_SECRET",
        "PSA__OPTIONS__TOKEN",
        "ERP__CONSUMER_KEY",
        "ERP__CONSUMER_SECRET",
        "ERP__TOKEN_ID",
        "ERP__TOKEN_SECRET",
    ):
        monkeypatch.setenv(f"PSSYNC__CONNECTORS__{name}", "from-the-environment")
    check = runner.invoke(app, ["config", "check", "--json"])
    assert check.exit_code == 0 and json.loads(check.output)["ok"] is True, check.output
    assert runner.invoke(app, ["init"]).exit_code == 1


def test_config_check_names_bad_key(workdir: Path) -> None:
    (workdir / "pssync.yaml").write_text("connectors:\n  crm:\n    type: x\n    role: nope\n")
    result = runner.invoke(app, ["config", "check", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"][0]["key"] == "connectors.crm.role"


def test_import_status_export_cycle(workdir: Path) -> None:
    good = {
        "entity_type": "Account",
        "valid_from": "2026-01-01T00:00:00+00:00",
        "payload": {"id": "acc-1", "name": "Northwind"},
    }
    (workdir / "in.jsonl").write_text(json.dumps(good) + "\n{broken\n")
    result = runner.invoke(app, ["import", "in.jsonl", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["created"] == 1 and report["rejected"][0]["line"] == 2
    status = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert status["records"] == {"Account": 1}
    exported = runner.invoke(app, ["export", "--entity", "Account"])
    assert json.loads(exported.output.splitlines()[0])["payload"]["name"] == "Northwind"


def test_schema_export(workdir: Path) -> None:
    result = runner.invoke(app, ["schema", "export", "schemas", "--json"])
    assert result.exit_code == 0
    assert (workdir / "schemas" / "Opportunity.schema.json").exists()


def test_demo_command_in_a_subprocess(workdir: Path) -> None:
    """The README's first command, as a user runs it (a real process, cwd state), twice in one
    directory: each run starts from a clean state, so the second reads the same systems again
    instead of finding stale cursors. Shortened with the hidden test options; the full run is
    tests/demo/test_demo.py's job."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    quick = ["demo", "--json", "--max-pages", "1", "--clock-steps", "0"]
    cmd = [sys.executable, "-c", "from pssync.cli.main import app; app()", *quick]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=150, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    first = json.loads(done.stdout)
    assert first["store"]["records"]["Opportunity"] > 0
    assert (workdir / "pssync.db").exists() and (workdir / "pssync.yaml").exists()
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=150, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    second = json.loads(again.stdout)
    assert second["store"]["records"] == first["store"]["records"]
    records = {name: info["records"] for name, info in first["systems"].items()}
    assert {name: info["records"] for name, info in second["systems"].items()} == records
    assert second["forecast"]["version_id"] != first["forecast"]["version_id"]


def test_import_rejects_become_exceptions_fixed_through_the_cli(workdir: Path) -> None:
    bad = {
        "entity_type": "Account",
        "valid_from": "2026-01-01T00:00:00+00:00",
        "payload": {"id": "acc-7", "name": "Umbrella", "currency": "usd"},
    }
    (workdir / "in.jsonl").write_text(json.dumps(bad) + "\n")
    result = runner.invoke(app, ["import", "in.jsonl", "--json"])
    assert result.exit_code == 1  # nothing loaded
    (exc_id,) = json.loads(result.output)["exceptions"]
    listed = json.loads(runner.invoke(app, ["exceptions", "list", "--json"]).output)
    assert [e["id"] for e in listed] == [exc_id]
    assert runner.invoke(app, ["exceptions", "assign", exc_id[:12], "ops@firm"]).exit_code == 0
    bad["payload"]["currency"] = "USD"  # type: ignore[index]
    (workdir / "fixed.json").write_text(json.dumps(bad))
    replayed = runner.invoke(
        app, ["exceptions", "replay", exc_id, "--payload", "fixed.json", "--json"]
    )
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.output)[0]["state"] == "resolved"
    status = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert status["records"] == {"Account": 1}
    assert json.loads(runner.invoke(app, ["exceptions", "list", "--json"]).output) == []
