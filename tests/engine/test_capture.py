"""Polling capture with durable cursors, against the SAP emulator through the real connector."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pssync.connectors.base import Page
from pssync.connectors.errors import RetriableError
from pssync.engine import capture
from pssync.engine.capture import Cursors, Poller
from pssync.engine.runtime import Runtime
from pssync.engine.worker import wait_idle
from pssync.mapping.translator import Translator

from .conftest import BP, EngineEnv, bp_row, connector_factory, faults, writes_made


def test_crm_accounts_reach_the_erp_and_the_cursor_moves_on(engine_env: EngineEnv) -> None:
    rows = [bp_row(f"Capture {i}") for i in range(5)]
    engine_env.crm.seed({BP: rows})
    report = Poller(engine_env.runtime, "crm", BP).run()
    assert report.counts == {"applied": 5}
    assert wait_idle(30)
    partners = engine_env.erp_partners()
    names = sorted(p["OrganizationBPName1"] for p in partners.values())
    assert names == [f"Capture {i}" for i in range(5)]
    assert Cursors(engine_env.store.engine).get("crm", BP) is not None

    # Caught up: a second poll applies nothing (whatever the connector re-reads at its cursor
    # boundary is a duplicate) and changes nothing in the golden store or the ERP.
    before, erp_writes = engine_env.store.table_counts(), writes_made(engine_env.erp)
    again = Poller(engine_env.runtime, "crm", BP).run()
    assert set(again.counts) <= {"duplicate"}
    assert wait_idle(30)
    assert engine_env.store.table_counts() == before
    assert writes_made(engine_env.erp) == erp_writes

    # One edit: only that record is read, and only it is written to the ERP.
    engine_env.crm_edit(
        [{"BusinessPartner": rows[2]["BusinessPartner"], "OrganizationBPName1": "Capture 2b"}]
    )
    edited = Poller(engine_env.runtime, "crm", BP).run()
    assert edited.counts.get("applied") == 1
    assert wait_idle(30)
    assert writes_made(engine_env.erp) == erp_writes + 1
    assert wait_idle(30)
    names = sorted(p["OrganizationBPName1"] for p in engine_env.erp_partners().values())
    assert names == ["Capture 0", "Capture 1", "Capture 2b", "Capture 3", "Capture 4"]


def test_golden_records_carry_xrefs_and_provenance(engine_env: EngineEnv) -> None:
    row = bp_row("Provenance Co")
    engine_env.crm.seed({BP: [row]})
    Poller(engine_env.runtime, "crm", BP).run()
    found = engine_env.store.resolve_xref("crm", BP, row["BusinessPartner"])
    assert found is not None and found[0] == "Account"
    version = engine_env.store.get("Account", found[1])
    assert version is not None
    assert version.payload["name"] == "Provenance Co"
    assert version.source_record == f"crm:{BP}:{row['BusinessPartner']}"
    origin = engine_env.store.provenance("Account", found[1], "name")
    assert origin is not None and origin["system"] == "crm"


def test_full_sync_rereads_everything_without_new_effects(engine_env: EngineEnv) -> None:
    assert wait_idle(30)
    before = engine_env.store.table_counts()
    report = Poller(engine_env.runtime, "crm", BP).run(full=True)
    assert report.records > 0
    assert set(report.counts) <= {"duplicate"}
    assert wait_idle(30)
    assert engine_env.store.table_counts() == before


def test_pages_are_applied_in_batches_and_a_failed_read_keeps_the_pages_before(
    engine_env: EngineEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [bp_row(f"Batch {i}") for i in range(120)]  # three 50-partner pages
    engine_env.crm.seed({BP: rows})
    real = capture.read_ahead
    cursors = Cursors(engine_env.store.engine)
    before = cursors.get("crm", BP)

    def third_read_fails(
        runtime: Runtime, system: str, obj: str, cursor: str | None, depth: int = 1
    ) -> Iterator[Page]:
        for n, page in enumerate(real(runtime, system, obj, cursor, depth)):
            if n == 2:
                raise RetriableError("connection reset")
            yield page

    monkeypatch.setattr(capture, "read_ahead", third_read_fails)
    first = Poller(engine_env.runtime, "crm", BP, max_retries=0, batch_records=1000)
    with pytest.raises(RetriableError):
        first.run()
    # The two pages read before the failure were applied (one workflow) and the cursor moved.
    assert first.report.pages == 2
    assert first.report.counts.get("applied", 0) >= 50
    assert cursors.get("crm", BP) != before

    monkeypatch.setattr(capture, "read_ahead", real)
    rest = Poller(engine_env.runtime, "crm", BP, batch_records=1000).run()
    assert first.report.counts["applied"] + rest.counts.get("applied", 0) == len(rows)
    assert wait_idle(30)
    names = {p["OrganizationBPName1"] for p in engine_env.erp_partners().values()}
    assert {r["OrganizationBPName1"] for r in rows} <= names


def test_batches_of_one_object_run_two_at_a_time_and_store_cursors_in_order(
    engine_env: EngineEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [bp_row(f"Overlap {i}") for i in range(200)]  # four 50-partner pages
    engine_env.crm.seed({BP: rows})
    started: list[int] = []
    read: list[str | None] = []
    saved: list[str | None] = []
    real_read, real_start, real_save = capture.read_ahead, capture.start_page, Cursors.save

    def recording_read(
        runtime: Runtime, system: str, obj: str, cursor: str | None, depth: int = 1
    ) -> Iterator[Page]:
        for page in real_read(runtime, system, obj, cursor, depth):
            read.append(page.cursor)
            yield page

    log: list[str] = []
    real_result = capture.PageRun.result

    def counting_start(system: str, obj: str, records: list[dict[str, Any]]) -> capture.PageRun:
        started.append(len(records))
        log.append("start")
        return real_start(system, obj, records)

    def logged_result(self: capture.PageRun) -> dict[str, Any]:
        if self.records:
            log.append("wait")
        return real_result(self)

    def recording_save(self: Cursors, system: str, obj: str, cursor: str | None) -> None:
        saved.append(cursor)
        real_save(self, system, obj, cursor)

    monkeypatch.setattr(capture, "read_ahead", recording_read)
    monkeypatch.setattr(capture, "start_page", counting_start)
    monkeypatch.setattr(capture.PageRun, "result", logged_result)
    monkeypatch.setattr(Cursors, "save", recording_save)
    poller = Poller(engine_env.runtime, "crm", BP, batch_records=50)
    assert poller.in_flight == capture.CONCURRENT_BATCHES == 2
    report = poller.run()
    assert report.counts == {"applied": 200}
    assert started == [50, 50, 50, 50]
    # The second batch started before the first was waited for, and never three at once.
    assert log[:2] == ["start", "start"]
    assert all(log[i : i + 3] != ["start"] * 3 for i in range(len(log)))
    # Each batch's cursor is stored once it and the ones before it finished: the pages'
    # cursors in read order (each once), the last the end of the read.
    assert saved == list(dict.fromkeys(c for c in read if c is not None))
    assert len(saved) >= 4
    assert Cursors(engine_env.store.engine).get("crm", BP) == saved[-1]
    assert wait_idle(30)
    names = {p["OrganizationBPName1"] for p in engine_env.erp_partners().values()}
    assert {r["OrganizationBPName1"] for r in rows} <= names


def test_objects_whose_batches_could_see_each_other_run_one_batch_at_a_time(
    engine_env: EngineEnv,
) -> None:
    runtime = engine_env.runtime
    assert capture.concurrent_batches(runtime, "crm", BP) == 2
    spec = runtime.translator("crm").spec
    parent = spec.objects[BP].model_copy(
        update={"fields": {**spec.objects[BP].fields, "parent_id": spec.objects[BP].fields["name"]}}
    )
    self_referencing = spec.model_copy(update={"objects": {**spec.objects, BP: parent}})
    deal = spec.objects[BP].model_copy(update={"entity": "Opportunity"})  # holds nested lines
    holding = spec.model_copy(update={"objects": {**spec.objects, BP: deal}})
    original = runtime.translators["crm"]
    try:
        for mapping in (self_referencing, holding):
            runtime.translators["crm"] = Translator(mapping)
            assert capture.concurrent_batches(runtime, "crm", BP) == 1
    finally:
        runtime.translators["crm"] = original


def test_a_read_too_long_to_get_through_the_faults_in_one_go_converges_page_by_page(
    engine_env: EngineEnv,
) -> None:
    """The capture's unit of progress is a page, and its retry budget counts failures in a row
    without a page applied, so a read of any length converges under faults.

    500 partners read 10 at a time (50 page requests) from a CRM answering 70% of its requests
    with a 429, 500 or 503 and dropping 5% of its connections (a fixed fault sequence). A
    request fails for good when its five attempts all fail (0.75^5, about 24%), so the whole
    read goes through in one go with probability 0.76^50, about one in a million, and it
    meets more failures than the budget of 8 restarts; a page fails nine tries in a row with
    probability 0.24^9. The budget counts failures without progress, so the read must bring
    every partner in, each once: a page applied before a failure is not read again (no
    "duplicate" count), the read resumes after it."""
    rows = [bp_row(f"Paged {i:03d}") for i in range(500)]
    engine_env.crm.seed({BP: rows})
    runtime = dataclasses.replace(
        engine_env.runtime,
        connectors={**engine_env.runtime.connectors, "crm": connector_factory(engine_env.crm, 10)},
        _local=threading.local(),  # its own connectors, not the ones cached for 50-row pages
    )
    naps: list[float] = []
    faults(
        engine_env.crm,
        error_rate=0.7,
        error_statuses=[429, 500, 503],
        retry_after=0,
        drop_rate=0.05,
        seed=23,
    )
    try:
        report = Poller(runtime, "crm", BP, sleep=naps.append).run()
    finally:
        faults(engine_env.crm, error_rate=0.0, drop_rate=0.0)
    assert report.retries > 8, "fewer failures than one budget: the test proves nothing"
    assert len(naps) == report.retries
    assert report.counts == {"applied": len(rows)}
    for row in rows:
        found = engine_env.store.resolve_xref("crm", BP, row["BusinessPartner"])
        assert found is not None, row
        assert len(engine_env.store.history("Account", found[1])) == 1
