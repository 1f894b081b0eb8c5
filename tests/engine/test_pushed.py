"""Pushed events: recorded at once, drained in batches, nothing lost, order and dedupe kept."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from pssync.engine import capture, pushed
from pssync.engine.ids import new_canonical_id
from pssync.engine.inbox import Inbox
from pssync.engine.pipeline import source_record
from pssync.engine.pushed import Drainer, waiting
from pssync.engine.tables import engine_pushed_lease
from pssync.engine.worker import start, stop_drainer, wait_idle
from pssync.engine.workflows import submit_event
from pssync.governance.replay import ReplayContext, replay

from .conftest import BP, EngineEnv


def _record(number: str, name: str, stamp: str) -> dict[str, Any]:
    data = {"BusinessPartner": number, "BusinessPartnerCategory": "2", "OrganizationBPName1": name}
    return source_record(number, data, stamp)


def _name(env: EngineEnv, number: str) -> str | None:
    current = env.store.get("Account", new_canonical_id("Account", "crm", BP, number))
    return None if current is None else str(current.payload["name"])


@pytest.fixture
def no_drainer(engine_env: EngineEnv) -> Iterator[EngineEnv]:
    """The worker's own drainer stopped, so the test drives draining itself."""
    assert wait_idle(30)
    stop_drainer()
    yield engine_env
    start(engine_env.runtime, engine_env.url, polling_interval=0.05)


def test_a_batch_cut_short_by_a_crash_is_applied_after_the_restart(
    no_drainer: EngineEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = no_drainer
    engine = env.store.engine
    submit_event("crm", BP, _record("9100000001", "Before", "2026-03-01T10:00:00+00:00"))
    submit_event("crm", BP, _record("9100000001", "After", "2026-03-01T11:00:00+00:00"))

    def crash(*_: Any) -> dict[str, Any]:
        raise RuntimeError("worker died")

    monkeypatch.setattr(capture, "apply_page", crash)
    with pytest.raises(RuntimeError):
        Drainer(engine, "worker-a").drain()
    monkeypatch.undo()
    assert waiting(engine) == 2 and _name(env, "9100000001") is None

    # Arrives after the crash: drained after the batch the dead worker had labelled.
    submit_event("crm", BP, _record("9100000001", "Latest", "2026-03-01T12:00:00+00:00"))
    assert Drainer(engine, "worker-a").drain() == 3
    assert waiting(engine) == 0
    assert _name(env, "9100000001") == "Latest"
    events = Inbox(engine).events_for("9100000001")
    assert sorted(e["status"] for e in events) == ["applied", "applied", "applied"]


def test_a_change_pushed_again_after_it_was_applied_is_a_no_op(no_drainer: EngineEnv) -> None:
    env = no_drainer
    engine = env.store.engine
    record = _record("9100000002", "Once Again", "2026-03-01T10:00:00+00:00")
    first = submit_event("crm", BP, record)
    assert submit_event("crm", BP, record) == first  # still waiting: the same row
    assert waiting(engine) == 1
    assert Drainer(engine, "worker-a").drain() == 1
    assert submit_event("crm", BP, record) == first
    assert Drainer(engine, "worker-a").drain() == 1
    account = new_canonical_id("Account", "crm", BP, "9100000002")
    assert len(env.store.history("Account", account)) == 1
    statuses = [e["status"] for e in Inbox(engine).events_for("9100000002")]
    assert statuses == ["applied"]


def test_an_older_version_pushed_late_does_not_overwrite_a_newer_one(
    no_drainer: EngineEnv,
) -> None:
    env = no_drainer
    engine = env.store.engine
    submit_event("crm", BP, _record("9100000003", "Newer", "2026-03-01T11:00:00+00:00"))
    submit_event("crm", BP, _record("9100000003", "Older", "2026-03-01T10:00:00+00:00"))
    assert Drainer(engine, "worker-a").drain() == 2
    assert _name(env, "9100000003") == "Newer"


def test_one_drainer_at_a_time(no_drainer: EngineEnv) -> None:
    env = no_drainer
    engine = env.store.engine
    holder = Drainer(engine, "worker-a", lease=0.5)
    other = Drainer(engine, "worker-b", lease=0.5)
    submit_event("crm", BP, _record("9100000004", "Leased", "2026-03-01T10:00:00+00:00"))
    assert holder.drain() == 1
    submit_event("crm", BP, _record("9100000005", "Waits", "2026-03-01T10:00:00+00:00"))
    assert other.drain() == 0  # worker-a holds the lease
    assert waiting(engine) == 1
    time.sleep(0.6)  # worker-a stopped renewing: its lease ran out
    assert other.drain() == 1
    assert _name(env, "9100000005") == "Waits"


def test_pages_keep_arrival_order_per_object() -> None:
    class Row:
        def __init__(self, system: str, obj: str, record: str) -> None:
            self.system, self.object, self.record = system, obj, record

    rows = [
        Row("crm", BP, '{"id": "1"}'),
        Row("crm", "Other", '{"id": "2"}'),
        Row("crm", BP, '{"id": "3"}'),
    ]
    pages = pushed.pages_of(rows)
    assert [(s, o, [r["id"] for r in recs]) for s, o, recs in pages] == [
        ("crm", BP, ["1", "3"]),
        ("crm", "Other", ["2"]),
    ]


def test_a_poison_event_becomes_an_exception_and_the_rest_flows(
    no_drainer: EngineEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 defect 2: one bad event used to fail its page forever and block the queue."""
    env = no_drainer
    engine = env.store.engine
    with engine.begin() as conn:  # no lease left over from another test's drainer
        conn.execute(delete(engine_pushed_lease))
    # Queued before ingress validated stamps (or by any other path): the pipeline cannot take it.
    bad_stamp = _record("9100000006", "Bad Stamp", "yesterday")
    submit_event("crm", BP, bad_stamp)
    submit_event("crm", BP, _record("9100000007", "Flows On", "2026-03-01T10:00:00+00:00"))
    # One the up-front check passes but the pipeline fails on (a data error in a page).
    submit_event("crm", BP, _record("9100000008", "Poison Inside", "2026-03-01T10:00:00+00:00"))
    real = capture.apply_page

    def choke(system: str, obj: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        if any(r["data"]["OrganizationBPName1"] == "Poison Inside" for r in records):
            raise ValueError("cannot convert OrganizationBPName1")
        return real(system, obj, records)

    monkeypatch.setattr(capture, "apply_page", choke)
    assert Drainer(engine, "worker-a").drain() == 3
    monkeypatch.undo()
    assert waiting(engine) == 0  # nothing left blocking the queue
    assert _name(env, "9100000007") == "Flows On"
    assert _name(env, "9100000006") is None and _name(env, "9100000008") is None
    raised = {e.source_id: e for e in env.exceptions.find(category=pushed.CATEGORY)}
    assert "yesterday" in raised["9100000006"].message
    assert "cannot convert" in raised["9100000008"].message
    assert json.loads(raised["9100000006"].payload or "") == bad_stamp

    # Fixed and replayed: queued again, and applied by the next drain.
    ctx = ReplayContext(env.store, env.exceptions)
    still_bad = replay(ctx, raised["9100000006"])
    assert still_bad.state == "open" and "ISO 8601" in still_bad.message
    assert waiting(engine) == 0
    fixed = {**bad_stamp, "modified_at": "2026-03-02T10:00:00+00:00"}
    done = replay(ctx, raised["9100000006"], payload=json.dumps(fixed))
    assert done.state == "resolved"
    assert Drainer(engine, "worker-a").drain() == 1
    assert _name(env, "9100000006") == "Bad Stamp"


def test_problem_of_names_what_the_pipeline_would_refuse() -> None:
    good = _record("1", "x", "2026-03-01T10:00:00Z")
    assert pushed.problem_of(good) is None
    assert pushed.problem_of({**good, "modified_at": None}) is None
    assert "ISO 8601" in str(pushed.problem_of({**good, "modified_at": "yesterday"}))
    assert "ISO 8601" in str(pushed.problem_of({**good, "modified_at": 1700000000}))
    assert "deleted" in str(pushed.problem_of({**good, "deleted": "false"}))
    assert "id" in str(pushed.problem_of({**good, "id": True}))
    assert "data" in str(pushed.problem_of({**good, "data": [1]}))
    assert pushed.problem_of([good]) is not None


def test_a_page_workflow_failing_inside_dbos_is_isolated_too(
    no_drainer: EngineEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data error raised inside a real page workflow comes back through DBOS as itself,
    so the drainer can tell it from a crash and set the one event aside."""
    from pssync.engine import pipeline

    env = no_drainer
    engine = env.store.engine
    with engine.begin() as conn:
        conn.execute(delete(engine_pushed_lease))
    real = pipeline._moment

    def refuse_one(text: str | None) -> Any:
        if text == "2026-03-03T03:03:03+00:00":
            raise ValueError("stamp refused by the pipeline")
        return real(text)

    monkeypatch.setattr(pipeline, "_moment", refuse_one)
    submit_event("crm", BP, _record("9100000009", "Refused", "2026-03-03T03:03:03+00:00"))
    submit_event("crm", BP, _record("9100000010", "Accepted", "2026-03-03T04:04:04+00:00"))
    assert Drainer(engine, "worker-a").drain() == 2
    assert waiting(engine) == 0
    assert _name(env, "9100000010") == "Accepted" and _name(env, "9100000009") is None
    raised = {e.source_id: e for e in env.exceptions.find(category=pushed.CATEGORY)}
    assert "stamp refused by the pipeline" in raised["9100000009"].message
