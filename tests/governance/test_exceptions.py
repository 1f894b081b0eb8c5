"""Exceptions: routing, SLA, lifecycle, dedupe by fingerprint, audit, and replay of import lines."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pssync.config.exceptions import RoutingConfig, RoutingRule
from pssync.governance.exceptions import ExceptionStore, NewException, TransitionError
from pssync.governance.replay import ReplayContext, raise_import_rejects, replay
from pssync.governance.routing import Router
from pssync.store import GoldenStore
from pssync.store.jsonl import import_lines

ROUTER = Router(
    RoutingConfig(
        default_owner="integration-team",
        routing=[
            RoutingRule(
                category="missing_legal_entity", region_id="reg-emea", owner="finance-emea"
            ),
            RoutingRule(category="missing_legal_entity", owner="finance-global"),
            RoutingRule(category="resource_conflict", service_line_id="sl-erp", owner="rm-erp"),
        ],
        sla_hours={"missing_legal_entity": 12},
    )
)


@pytest.fixture
def exceptions(store: GoldenStore, clock) -> ExceptionStore:
    return ExceptionStore(store.engine, ROUTER, clock=clock)


def _missing_le(region: str | None = "reg-emea", record: str = "acc-1") -> NewException:
    return NewException(
        category="missing_legal_entity",
        message=f"Account {record} has no legal entity",
        system="salesforce",
        object="Account",
        entity_type="Account",
        record_id=record,
        region_id=region,
        details={"field": "legal_entity_id"},
    )


def test_routing_and_sla(exceptions: ExceptionStore, clock) -> None:
    emea = exceptions.raise_(_missing_le("reg-emea"))
    other = exceptions.raise_(_missing_le("reg-na", record="acc-2"))
    conflict = exceptions.raise_(
        NewException(category="resource_conflict", message="x", record_id="p")
    )
    assert (emea.owner, other.owner, conflict.owner) == (
        "finance-emea",
        "finance-global",
        "integration-team",
    )
    assert emea.severity == "high" and emea.state == "open"
    assert emea.due_at == clock.now + dt.timedelta(hours=12)
    assert conflict.due_at == clock.now + dt.timedelta(hours=72)
    clock.set(clock.now + dt.timedelta(hours=13))
    assert emea.overdue(clock.now) and not conflict.overdue(clock.now)


def test_same_problem_twice_is_one_exception(exceptions: ExceptionStore) -> None:
    first = exceptions.raise_(_missing_le())
    second = exceptions.raise_(_missing_le())
    assert first.id == second.id
    assert len(exceptions.find()) == 1


def test_same_problem_twice_in_one_batch_is_one_exception_with_the_later_details(
    exceptions: ExceptionStore,
) -> None:
    first, later = _missing_le(), _missing_le()
    later.message, later.payload = "raised again", '{"v": 2}'
    ids = exceptions.raise_many([first, later])
    assert ids[0] == ids[1]
    (found,) = exceptions.find()
    assert (found.message, found.payload) == ("raised again", '{"v": 2}')


def test_a_batch_raised_again_refreshes_each_exception(exceptions: ExceptionStore) -> None:
    """A reconciliation raises its findings again on every run: one statement refreshes them
    all, each with its own new message, and none is opened twice."""
    first = exceptions.raise_many([_missing_le(record=f"acc-{n}") for n in range(3)])
    again = [_missing_le(record=f"acc-{n}") for n in range(3)]
    for n, new in enumerate(again):
        new.message = f"still no legal entity ({n})"
    assert exceptions.raise_many(again) == first
    found = {e.id: e.message for e in exceptions.find()}
    assert found == {exc_id: f"still no legal entity ({n})" for n, exc_id in enumerate(first)}


def test_lifecycle_with_reopen_and_audit(exceptions: ExceptionStore, store: GoldenStore) -> None:
    exc = exceptions.raise_(_missing_le())
    assert exceptions.assign(exc.id, "ana@finance", "lead").state == "assigned"
    done = exceptions.resolve(exc.id, "legal entity set in ERP", "ana@finance")
    assert done.state == "resolved" and done.resolved_at is not None
    with pytest.raises(TransitionError):
        exceptions.assign(exc.id, "bob", "lead")
    again = exceptions.reopen(exc.id, "lead")
    assert again.state == "open" and again.resolution is None
    # A new raise after resolution would open a new one; while open it refreshes this one.
    assert exceptions.raise_(_missing_le()).id == exc.id
    assert store.table_counts()["audit_log"] == 4  # raise, assign, resolve, reopen


def test_auto_resolve_when_fixed_upstream(exceptions: ExceptionStore) -> None:
    exc = exceptions.raise_(_missing_le())
    assert exceptions.auto_resolve(exc.fingerprint, "Account acc-1 now has le-uk") == 1
    resolved = exceptions.get(exc.id)
    assert resolved is not None and resolved.state == "resolved"
    assert "auto-resolved" in (resolved.resolution or "")


def test_rejected_import_line_is_fixed_and_replayed(
    exceptions: ExceptionStore, store: GoldenStore
) -> None:
    bad = json.dumps(
        {
            "entity_type": "Account",
            "valid_from": "2026-01-01T00:00:00+00:00",
            "payload": {"id": "acc-9", "name": "Initech", "currency": "pounds"},
        }
    )
    report = import_lines(store, [bad])
    (exc,) = raise_import_rejects(exceptions, "accounts.jsonl", report.rejected)
    assert exc.category == "invalid_record" and exc.record_id == "acc-9"
    assert exc.source_id == "accounts.jsonl:1" and "currency" in exc.message
    ctx = ReplayContext(store, exceptions)

    still_bad = replay(ctx, exc)
    assert still_bad.state == "open" and still_bad.attempts == 1

    fixed = bad.replace('"pounds"', '"GBP"')
    done = replay(ctx, exceptions.get(exc.id), payload=fixed)  # type: ignore[arg-type]
    assert done.state == "resolved" and done.attempts == 2
    assert store.get("Account", "acc-9").payload["currency"] == "GBP"  # type: ignore[union-attr]


def test_replay_handlers_load_on_first_need_not_at_start_up() -> None:
    """The CLI does not import the engine (and DBOS) to start; replay finds its handler anyway."""
    import subprocess
    import sys

    code = (
        "import sys; import pssync.cli.main; "
        "assert 'pssync.engine.dead_letter' not in sys.modules, 'engine imported at start-up'; "
        "from pssync.governance.replay import _handler; "
        "print(_handler('delivery_failed', 'netsuite').__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "replay_delivery"
