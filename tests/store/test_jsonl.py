"""Canonical JSONL import/export: bad lines named by number, re-import a no-op, round trip."""

from __future__ import annotations

import json
from pathlib import Path

from pssync.samples import sample_lines
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import export_lines, import_file, import_lines


def _line(record_id: str, name: str, valid_from: str = "2026-01-01T00:00:00+00:00") -> str:
    payload = {"id": record_id, "name": name}
    return json.dumps({"entity_type": "Account", "valid_from": valid_from, "payload": payload})


def test_bad_lines_are_reported_and_good_lines_loaded(store: GoldenStore, tmp_path: Path) -> None:
    lines = [
        _line("acc-1", "Northwind"),
        "{not json",
        json.dumps(
            {
                "entity_type": "Account",
                "valid_from": "2026-01-01T00:00:00",
                "payload": {"id": "a", "name": "x"},
            }
        ),
        json.dumps(
            {
                "entity_type": "Opportunity",
                "valid_from": "2026-01-01T00:00:00+00:00",
                "payload": {
                    "id": "opp-9",
                    "account_id": "acc-1",
                    "name": "n",
                    "stage": "s",
                    "probability": "70",
                    "amount": {"amount": "10"},
                    "close_date": "2026-01-01",
                },
            }
        ),
        json.dumps(
            {"entity_type": "Spaceship", "valid_from": "2026-01-01T00:00:00+00:00", "payload": {}}
        ),
        "",
        _line("acc-2", "Globex"),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_file(store, path)

    assert report.created == 2
    reasons = {r.line_number: r.reason for r in report.rejected}
    assert set(reasons) == {2, 3, 4, 5}
    assert "not valid JSON" in reasons[2]
    assert "no timezone" in reasons[3]
    assert "Opportunity 'opp-9'" in reasons[4] and "amount.currency" in reasons[4]
    assert "unknown entity type" in reasons[5]
    rejects = (tmp_path / "in.rejected.jsonl").read_text().splitlines()
    assert [json.loads(r)["line"] for r in rejects] == [2, 3, 4, 5]
    assert store.counts() == {"Account": 2}


def test_reimport_is_a_no_op(store: GoldenStore) -> None:
    lines = sample_lines()
    first = import_lines(store, lines)
    assert first.created > 50 and not first.rejected
    before = store.table_counts()
    second = import_lines(store, lines)
    assert second.created == second.updated == 0
    assert second.unchanged == first.lines
    assert store.table_counts() == before


def test_export_then_import_round_trips_history(store: GoldenStore, tmp_path: Path) -> None:
    import_lines(store, sample_lines())
    exported = list(export_lines(store, history=True))
    copy = GoldenStore(open_engine(f"sqlite:///{tmp_path}/copy.db"))
    report = import_lines(copy, exported)
    assert not report.rejected
    assert list(export_lines(copy, history=True)) == exported
    assert copy.counts() == store.counts()
