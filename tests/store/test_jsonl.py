"""Canonical JSONL import/export: bad lines named by number, re-import a no-op, round trip."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pssync.samples import sample_lines
from pssync.store import GoldenStore, jsonl, open_engine
from pssync.store.audit import verify_chain
from pssync.store.jsonl import export_lines, import_file, import_lines
from pssync.store.tables import audit_log, record_version, xref


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
    writes store: the same versions, xrefs and audit rows, and an intact chain. Within one
    import a key (entity, ID, valid time) repeated with other content is rejected, not applied
    over the first (issue 14 defect 13); across imports it replaces, as before."""
    lines = [
        _fact("acc-1", "Northwind", "2026-01-01T00:00:00+00:00", xrefs={"crm:Account": "A1"}),
        _fact("acc-2", "Globex", "2026-01-01T00:00:00+00:00"),
        _fact("acc-1", "Northwind Ltd", "2026-03-01T00:00:00+00:00", domain="nw.example"),
        _fact("acc-1", "Northwind (early)", "2025-06-01T00:00:00+00:00"),
        _fact("acc-2", "Globex", "2026-01-01T00:00:00+00:00"),  # repeat: reported, skipped
    ]
    conflicting = _fact("acc-2", "Globex Corp", "2026-01-01T00:00:00+00:00")  # same valid time
    report = import_lines(store, [*lines, conflicting])
    assert (report.created, report.updated, report.unchanged) == (3, 1, 0)
    assert report.repeated == [(5, 2)]
    assert [(r.line_number, "line 2 was kept" in r.reason) for r in report.rejected] == [(6, True)]
    assert store.get("Account", "acc-2").payload["name"] == "Globex"  # type: ignore[union-attr]

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
    # A later import may replace what an earlier one said for the same valid time.
    again = import_lines(store, [conflicting])
    assert again.updated == 1 and not again.rejected
    assert store.get("Account", "acc-2").payload["name"] == "Globex Corp"  # type: ignore[union-attr]
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


def _stored(store: GoldenStore) -> dict[str, list[tuple[object, ...]]]:
    """What an import leaves in each table, minus what differs between any two imports
    (transaction IDs, surrogate keys and the hashes, which cover transaction IDs)."""
    with store.engine.connect() as conn:
        return {
            "versions": sorted(
                [
                    tuple(r)
                    for r in conn.execute(
                        sa.select(
                            record_version.c.entity_type,
                            record_version.c.record_id,
                            record_version.c.valid_from,
                            record_version.c.valid_to,
                            record_version.c.recorded_to,
                            record_version.c.content_hash,
                            record_version.c.payload,
                            record_version.c.system,
                            record_version.c.deleted,
                        )
                    )
                ],
                key=str,
            ),
            "provenance": sorted(
                (r.record_id, tuple(json.loads(r.provenance)))
                for r in conn.execute(sa.select(record_version))
            ),
            "xrefs": sorted(
                tuple(r)
                for r in conn.execute(
                    sa.select(xref.c.entity_type, xref.c.record_id, xref.c.external_id)
                )
            ),
            "audit": [
                (r.seq, r.actor, r.action, r.entity_type, r.record_id, r.changes)
                for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq))
            ],
        }


def test_large_import_through_the_worker_stores_what_in_process_does(
    store: GoldenStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above PIPELINE_MIN_LINES, lines are prepared in a worker process: same rows, same
    report, same rejected lines (numbers and reasons), an intact chain, re-import a no-op."""
    lines = sample_lines()
    lines[7:7] = ["{not json", "", _line("acc-bad", "x", valid_from="2026-01-01")]
    lines += [_fact("acc-1", "Northwind", "2026-01-01T00:00:00+00:00")] * 2  # a repeat
    monkeypatch.setattr(jsonl, "BATCH_SIZE", 7)
    used: list[int] = []
    in_worker = jsonl._prepared_in_worker

    def spy(batches: Iterator[list[tuple[int, str]]], system: str) -> Iterator[Any]:
        used.append(1)
        return in_worker(batches, system)

    monkeypatch.setattr(jsonl, "_prepared_in_worker", spy)
    in_process = GoldenStore(open_engine(f"sqlite:///{tmp_path}/in.db"), clock=store.clock)
    monkeypatch.setattr(jsonl, "PIPELINE_MIN_LINES", len(lines))
    expected = import_lines(in_process, lines)
    assert not used
    monkeypatch.setattr(jsonl, "PIPELINE_MIN_LINES", 10)
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_file(store, path)
    assert used

    assert report.as_dict() == expected.as_dict()
    assert [r.line_number for r in report.rejected] == [8, 10]
    assert [r.text for r in report.rejected] == [r.text for r in expected.rejected]
    assert path.with_suffix(".rejected.jsonl").read_text().count("\n") == 2
    assert _stored(store) == _stored(in_process)
    assert verify_chain(store.engine).rows_checked == report.created + report.updated
    assert verify_chain(store.engine).ok
    counts = store.table_counts()
    again = import_lines(store, lines)
    assert again.unchanged == report.created + report.updated + report.unchanged
    assert store.table_counts() == counts
    in_process.engine.dispose()


class _DeadWorker(ProcessPoolExecutor):
    """A pool whose worker died after its first batch."""

    submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        type(self).submitted += 1
        if type(self).submitted > 2:
            raise BrokenProcessPool("worker gone")
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("worker gone"))
        return future


def test_import_survives_a_dead_worker(
    store: GoldenStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the worker process dies, the lines it held are prepared here instead: nothing is lost."""
    lines = sample_lines()
    monkeypatch.setattr(jsonl, "BATCH_SIZE", 9)
    monkeypatch.setattr(jsonl, "PIPELINE_MIN_LINES", 10)
    monkeypatch.setattr(jsonl, "ProcessPoolExecutor", _DeadWorker)
    monkeypatch.setattr(_DeadWorker, "submitted", 0)
    report = import_lines(store, lines)
    assert _DeadWorker.submitted > 2
    in_process = GoldenStore(open_engine(f"sqlite:///{tmp_path}/in.db"), clock=store.clock)
    monkeypatch.setattr(jsonl, "PIPELINE_MIN_LINES", len(lines))
    assert report.as_dict() == import_lines(in_process, lines).as_dict()
    assert _stored(store) == _stored(in_process)
    in_process.engine.dispose()


def test_bad_bytes_long_lines_and_repeats_are_reported_by_line_and_the_rest_imported(
    store: GoldenStore, db_url: str, tmp_path: Path
) -> None:
    """Issue 14 defect 13: one invalid UTF-8 byte aborted the whole import with a traceback and
    no line number; a repeated ID silently kept the last line; a 50 MB line was accepted."""
    from typer.testing import CliRunner

    from pssync.cli.main import app
    from pssync.governance.exceptions import ExceptionStore

    path = tmp_path / "hostile.jsonl"
    huge = json.dumps(
        {
            "entity_type": "Account",
            "valid_from": "2026-01-01T00:00:00+00:00",
            "payload": {"id": "acc-huge", "name": "x" * (50 * 1024 * 1024)},
        }
    )
    with path.open("wb") as out:
        out.write(b"\xef\xbb\xbf" + _line("acc-bom", "Byte Order Mark AG").encode() + b"\n")  # 1
        out.write(_line("acc-ok-1", "Good One").encode() + b"\n")  # 2
        out.write(_line("acc-bad", "Caf").encode().replace(b"Caf", b"Caf\xe9") + b"\n")  # 3
        out.write(huge.encode() + b"\n")  # 4
        out.write(_line("acc-rep", "First Version").encode() + b"\n")  # 5
        out.write(_line("acc-rep", "First Version").encode() + b"\n")  # 6: identical repeat
        out.write(_line("acc-rep", "Second Version").encode() + b"\n")  # 7: conflicting repeat
        out.write(("[" * 100_000).encode() + b"\n")  # 8: nested too deeply
        out.write(_line("acc-ok-2", "Good Two").encode())  # 9, no final newline
    result = CliRunner().invoke(app, ["import", str(path), "--db", db_url, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    report = json.loads(result.output)
    assert report["created"] == 4  # acc-bom, acc-ok-1, acc-rep, acc-ok-2
    rejected = {r["line"]: r["reason"] for r in report["rejected"]}
    assert set(rejected) == {3, 4, 7, 8}
    assert "not UTF-8: byte 0xe9" in rejected[3]
    assert "over the limit of 1,048,576" in rejected[4]
    assert "repeats Account acc-rep" in rejected[7] and "line 5 was kept" in rejected[7]
    assert "nested too deeply" in rejected[8]
    assert report["repeated"] == [{"line": 6, "repeats_line": 5}]
    current = store.get("Account", "acc-rep")
    assert current is not None and current.payload["name"] == "First Version"
    assert store.get("Account", "acc-huge") is None
    raised = ExceptionStore(store.engine).find(category="invalid_record")
    assert {e.details["line"] for e in raised} == {3, 4, 7, 8}
    conflict = next(e for e in raised if e.details["line"] == 7)
    assert json.loads(conflict.payload or "")["payload"]["name"] == "Second Version"


def test_read_lines_limits_and_decodes() -> None:
    import io

    lines = list(jsonl.read_lines(io.BytesIO(b"ok\n" + b"y" * 3000 + b"\nnext\n\xff\n"), 1024))
    assert lines[0] == "ok\n" and lines[2] == "next\n"
    assert isinstance(lines[1], jsonl.LineProblem) and "3,001 bytes" in lines[1].reason
    assert isinstance(lines[3], jsonl.LineProblem) and "0xff at column 1" in lines[3].reason
    assert len(lines) == 4
