"""`pssync fidelity` through Typer's runner: a truth file against an imported store, and the
errors a user sees for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pssync.cli.main import app

runner = CliRunner()

ACCOUNT = {
    "entity_type": "Account",
    "valid_from": "2026-01-05T09:00:00+00:00",
    "system": "salesforce",
    "source_record": "salesforce:Account:001A",
    "payload": {"id": "acc-1", "name": "Alpine", "currency": "USD"},
}


def test_truth_file_against_a_store_that_lost_a_field(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    truth = tmp_path / "truth.jsonl"
    truth.write_text(json.dumps(ACCOUNT) + "\n", encoding="utf-8")
    synced = tmp_path / "synced.jsonl"
    changed = {**ACCOUNT, "payload": {**ACCOUNT["payload"], "name": "Alpine Inc."}}
    synced.write_text(json.dumps(changed) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(synced), "--db", db]).exit_code == 0
    (tmp_path / "planted.jsonl").write_text("", encoding="utf-8")
    args = ["fidelity", "--against", str(truth), "--db", db, "--no-outcomes"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["records"]["unexplained"] == 1
    [defect] = report["unexplained_examples"]
    assert (defect["field"], defect["truth"], defect["golden"]) == ("name", "Alpine", "Alpine Inc.")
    assert report["planted"]["planted"] == 0  # the empty answer key next to the truth was read
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 1
    assert "name: truth 'Alpine' vs golden 'Alpine Inc.'" in " ".join(strict.output.split())


def test_bad_input_is_named(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    assert runner.invoke(app, ["fidelity", "--db", db]).exit_code == 1
    missing = runner.invoke(app, ["fidelity", "--against", str(tmp_path / "no.jsonl"), "--db", db])
    assert missing.exit_code == 1 and "no such file" in " ".join(missing.output.split())
    bad = tmp_path / "truth.jsonl"
    bad.write_text(json.dumps(ACCOUNT) + "\n{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["fidelity", "--against", str(bad), "--db", db])
    assert result.exit_code == 1 and "truth line 2" in " ".join(result.output.split())
