"""Idempotent consumer: duplicates are no-ops, late old versions never win, one ID runs once."""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID

from pssync.engine.capture import apply_page
from pssync.engine.ids import new_canonical_id
from pssync.engine.pipeline import source_record
from pssync.engine.submit import submit_event
from pssync.engine.worker import wait_idle
from pssync.engine.workflows import ingest_page

from .conftest import BP, EngineEnv, writes_made


def _record(number: str, name: str, stamp: str) -> dict[str, object]:
    data = {"BusinessPartner": number, "BusinessPartnerCategory": "2", "OrganizationBPName1": name}
    return source_record(number, data, stamp)


def _account(number: str) -> str:
    return new_canonical_id("Account", "crm", BP, number)


def test_the_same_event_delivered_five_times_has_one_effect(engine_env: EngineEnv) -> None:
    assert wait_idle(30)
    erp_writes = writes_made(engine_env.erp)
    record = _record("9000000001", "Fivefold GmbH", "2026-03-01T10:00:00+00:00")
    ids = {submit_event("crm", BP, record) for _ in range(5)}
    assert len(ids) == 1
    assert wait_idle(30)
    history = engine_env.store.history("Account", _account("9000000001"))
    assert len(history) == 1
    assert writes_made(engine_env.erp) == erp_writes + 1
    names = [p["OrganizationBPName1"] for p in engine_env.erp_partners().values()]
    assert names.count("Fivefold GmbH") == 1


def test_a_duplicate_inside_another_page_is_a_no_op(engine_env: EngineEnv) -> None:
    first = _record("9000000002", "Paged Ltd", "2026-03-01T10:00:00+00:00")
    other = _record("9000000003", "Other Ltd", "2026-03-01T10:00:00+00:00")
    assert apply_page("crm", BP, [first])["counts"] == {"applied": 1}
    # A different page (different workflow) carrying the same event again.
    assert apply_page("crm", BP, [first, other])["counts"] == {"duplicate": 1, "applied": 1}
    assert len(engine_env.store.history("Account", _account("9000000002"))) == 1


def test_out_of_order_versions_the_newest_wins(engine_env: EngineEnv) -> None:
    older = _record("9000000004", "Old Name", "2026-03-01T10:00:00+00:00")
    newer = _record("9000000004", "New Name", "2026-03-01T11:00:00+00:00")
    assert apply_page("crm", BP, [newer])["counts"] == {"applied": 1}
    assert apply_page("crm", BP, [older])["counts"] == {"stale": 1}
    current = engine_env.store.get("Account", _account("9000000004"))
    assert current is not None and current.payload["name"] == "New Name"
    assert wait_idle(30)
    names = [p["OrganizationBPName1"] for p in engine_env.erp_partners().values()]
    assert "New Name" in names and "Old Name" not in names


def test_versions_in_one_page_apply_in_source_order(engine_env: EngineEnv) -> None:
    v1 = _record("9000000005", "First", "2026-03-01T10:00:00+00:00")
    v2 = _record("9000000005", "Second", "2026-03-01T10:05:00+00:00")
    v0 = _record("9000000005", "Zeroth", "2026-03-01T09:00:00+00:00")
    counts = apply_page("crm", BP, [v1, v2, v0])["counts"]
    assert counts == {"applied": 2, "stale": 1}
    current = engine_env.store.get("Account", _account("9000000005"))
    assert current is not None and current.payload["name"] == "Second"


def test_a_workflow_run_twice_with_one_id_runs_once(engine_env: EngineEnv) -> None:
    """The DBOS idempotency pattern: same workflow ID, the side effect happens once."""
    record = _record("9000000006", "Once Inc", "2026-03-01T10:00:00+00:00")
    assert wait_idle(30)  # earlier tests' deliveries must not count here
    erp_writes = writes_made(engine_env.erp)
    results = []
    for _ in range(2):
        with SetWorkflowID("test-once-9000000006"):
            results.append(ingest_page("crm", BP, [record]))
    assert results[0] == results[1]
    assert wait_idle(30)
    assert len(engine_env.store.history("Account", _account("9000000006"))) == 1
    assert writes_made(engine_env.erp) == erp_writes + 1
    status = DBOS.get_workflow_status("test-once-9000000006")
    assert status is not None and status.status == "SUCCESS"
