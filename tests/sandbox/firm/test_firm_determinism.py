"""Same seed, size and today give the same bytes; another seed gives another firm."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from pssync.sandbox.firm import Firm, generate_firm


def _digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*.jsonl"))
    }


def test_two_runs_write_identical_bytes(firm: Firm, tmp_path: Path) -> None:
    firm.write(tmp_path / "a")
    generate_firm("small", seed=7).write(tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b
    assert "truth.jsonl" in a
    assert "views/salesforce/Opportunity.jsonl" in a
    assert "views/kantata/time_entries.jsonl" in a


def test_written_files_hold_every_record(firm: Firm, tmp_path: Path) -> None:
    firm.write(tmp_path)
    truth = (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert truth == list(firm.truth_lines())
    for system, objects in firm.views.items():
        for name, records in objects.items():
            lines = (tmp_path / "views" / system / f"{name}.jsonl").read_text(encoding="utf-8")
            assert len(lines.splitlines()) == len(records)


def test_other_seed_gives_other_firm(firm: Firm) -> None:
    other = generate_firm("small", seed=8)
    assert [a.name for a in other.accounts] != [a.name for a in firm.accounts]


def test_today_is_configurable() -> None:
    moved = generate_firm("small", seed=7, today=dt.date(2025, 3, 3))
    assert moved.today == dt.date(2025, 3, 3)
    we = moved.view_record("salesforce", "Opportunity", "opp-worked-example")
    assert we is not None and we["Requested_Start__c"] == "2025-04-01"
