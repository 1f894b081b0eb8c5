"""Canonical JSONL import/export: bad lines named by number, re-import a no-op, round trip."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from pssync.samples import sample_lines
from pssync.store import GoldenStore, open_engine
from pssync.store.audit import verify_chain
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


def _fact(record_id: str, name: str, valid_from: str, **extra: object) -> str:
    payload = {"id": record_id, "name": name, **extra}
    return json.dumps({"entity_type": "Account", "valid_from": valid_from, "payload": payload})


def test_batched_import_matches_one_write_per_line(store: GoldenStore, tmp_path: Path) -> None:
    """The batch path (new records, repeats of a key within one batch) stores what per-line
    writes store: the same versions, xrefs and audit rows, and an intact chain."""
    lines = [
        _fact("acc-1", "Northwind", "2026-01-01T00:00:00+00:00", xrefs={"crm:Account": "A1"}),
        _fact("acc-2", "Globex", "2026-01-01T00:00:00+00:00"),
        _fact("acc-1", "Northwind Ltd", "2026-03-01T00:00:00+00:00", domain="nw.example"),
        _fact("acc-1", "Northwind (early)", "2025-06-01T00:00:00+00:00"),
        _fact("acc-2", "Globex", "2026-01-01T00:00:00+00:00"),  # repeat: unchanged
        _fact("acc-2", "Globex Corp", "2026-01-01T00:00:00+00:00"),  # same valid time: replaces
    ]
    report = import_lines(store, lines)
    assert (report.created, report.updated, report.unchanged) == (3, 2, 1)

    one_by_one = GoldenStore(open_engine(f"sqlite:///{tmp_path}/single.db"), clock=store.clock)
    for line in lines:
        import_lines(one_by_one, [line])

    assert list(export_lines(store, history=True)) == list(export_lines(one_by_one, history=True))
    # Versions superseded inside one batch never reach the table, so only these counts agree.
    batched, single = store.table_counts(), one_by_one.table_counts()
    assert (batched["xref"], batched["audit_log"]) == (single["xref"], single["audit_log"])
    assert verify_chain(store.engine).ok
    assert store.resolve_xref("crm", "Account", "A1") == ("Account", "acc-1")
    source = store.provenance("Account", "acc-1", "domain")
    assert source is not None and source["system"] == "import"
    one_by_one.engine.dispose()


def test_import_keeps_the_audit_chain_intact(store: GoldenStore) -> None:
    report = import_lines(store, sample_lines())
    result = verify_chain(store.engine)
    assert result.ok, result.problem
    assert result.rows_checked == report.created + report.updated


def test_json_edge_cases_parse_as_the_standard_library_does(
    store: GoldenStore,
) -> None:
    """NaN, integers beyond 64 bits and lone surrogates are JSON to Python's parser: such lines
    get its verdict, a field error naming the record or an exactly stored record."""
    nan_hours = (
        '{"entity_type": "TimeEntry", "valid_from": "2026-01-01T00:00:00+00:00", "payload": '
        '{"id": "te-1", "project_id": "p", "resource_id": "r", "work_date": "2026-01-01", '
        '"hours": NaN}}'
    )
    big = _fact("acc-big", "Big", "2026-01-01T00:00:00+00:00", schema_version=10**30)
    surrogate = _line("acc-s", "\ud800 x")  # json.dumps writes it as the escape \\ud800
    report = import_lines(store, [nan_hours, big, surrogate])
    assert [r.line_number for r in report.rejected] == [1, 3]
    assert "Account 'acc-s': field 'name'" in report.rejected[1].reason
    assert "TimeEntry 'te-1'" in report.rejected[0].reason
    assert "hours" in report.rejected[0].reason
    stored = store.get("Account", "acc-big")
    assert stored is not None and stored.payload["schema_version"] == 10**30
    again = import_lines(store, [big])
    assert again.unchanged == 1


def test_import_turns_the_cycle_collector_back_on(store: GoldenStore) -> None:
    assert gc.isenabled()
    import_lines(store, [_line("acc-1", "Northwind")])
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        import_lines(store, (str(1 / 0) for _ in range(1)))
    assert gc.isenabled()
