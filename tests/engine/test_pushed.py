"""Pushed events: recorded at once, drained in batches, nothing lost, order and dedupe kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pssync.engine import page_runs, pushed
from pssync.engine.ids import new_canonical_id
from pssync.engine.inbox import Inbox
from pssync.engine.pipeline import source_record
from pssync.engine.pushed import Drainer, waiting
from pssync.engine.submit import submit_event
from pssync.engine.worker import start, stop_drainer, wait_idle

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

    monkeypatch.setattr(page_runs, "apply_page", crash)
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
