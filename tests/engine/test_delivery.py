"""Delivery under faults, dead letters and replay, against the SAP emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pssync.engine.capture import Poller, apply_page
from pssync.engine.ids import new_canonical_id
from pssync.engine.pipeline import PagePipeline, source_record
from pssync.engine.worker import wait_idle
from pssync.governance.exceptions import ACTIVE
from pssync.governance.replay import ReplayContext, replay

from .conftest import BP, EngineEnv, bp_row, faults


@pytest.fixture
def clean_faults(engine_env: EngineEnv) -> Iterator[None]:
    yield
    for emulator in (engine_env.crm, engine_env.erp):
        faults(emulator, error_rate=0.0, timeout_rate=0.0, quota_exhausted=False)


def _record(number: str, name: str) -> dict[str, object]:
    data = {"BusinessPartner": number, "BusinessPartnerCategory": "2", "OrganizationBPName1": name}
    return source_record(number, data, "2026-04-01T08:00:00+00:00")


def test_a_full_sync_under_injected_faults_converges(
    engine_env: EngineEnv, clean_faults: None
) -> None:
    rows = [bp_row(f"Faulty {i:03d}") for i in range(120)]
    engine_env.crm.seed({BP: rows})
    faults(engine_env.erp, error_rate=0.1, retry_after=0, seed=7)
    faults(engine_env.crm, error_rate=0.1, retry_after=0, seed=11)
    report = Poller(engine_env.runtime, "crm", BP).run()
    assert report.counts == {"applied": 120}
    assert wait_idle(90)
    faults(engine_env.erp, error_rate=0.0)
    partners = engine_env.erp_partners()  # asserts no external ID twice
    names = sorted(p["OrganizationBPName1"] for p in partners.values())
    assert [n for n in names if n.startswith("Faulty")] == [r["OrganizationBPName1"] for r in rows]
    assert len(partners) >= 120
    assert not engine_env.exceptions.find(category="delivery_failed", system="erp")


def test_a_permanent_failure_becomes_an_exception_and_replay_resolves_it(
    engine_env: EngineEnv,
) -> None:
    too_long = "A Name Far Too Long For The Forty Characters SAP Allows"
    assert apply_page("crm", BP, [_record("9100000001", too_long)])["counts"] == {"applied": 1}
    assert wait_idle(30)
    raised = engine_env.exceptions.find(category="delivery_failed", system="erp")
    assert len(raised) == 1
    exc = raised[0]
    assert exc.record_id == new_canonical_id("Account", "crm", BP, "9100000001")
    assert exc.details["error_class"] == "PermanentError"
    assert exc.details["field"] == "OrganizationBPName1"
    assert exc.details["attempts"] == 1
    assert exc.correlation_id and "/deliver/erp/" in exc.correlation_id
    assert exc.owner is not None and exc.payload is not None

    # Replaying before the fix fails again and keeps the exception open.
    ctx = ReplayContext(engine_env.store, engine_env.exceptions)
    again = replay(ctx, exc)
    assert again.state in [s.value for s in ACTIVE] and again.attempts == 1

    # The fix lands in the source (a shorter name); replay now resends and resolves it.
    fixed = source_record(
        "9100000001",
        {"BusinessPartner": "9100000001", "OrganizationBPName1": "Short Name AG"},
        "2026-04-01T09:00:00+00:00",
    )
    PagePipeline(engine_env.runtime, "crm", BP).run([fixed])  # golden only, no delivery
    done = replay(ctx, again)
    assert done.state == "resolved"
    names = [p["OrganizationBPName1"] for p in engine_env.erp_partners().values()]
    assert names.count("Short Name AG") == 1


def test_retries_exhausted_dead_letter_then_replay_after_recovery(
    engine_env: EngineEnv, clean_faults: None
) -> None:
    faults(engine_env.erp, error_rate=1.0, error_statuses=[503], retry_after=0)
    assert apply_page("crm", BP, [_record("9100000002", "Outage Oy")])["counts"] == {"applied": 1}
    assert wait_idle(60)
    raised = [
        e
        for e in engine_env.exceptions.find(category="delivery_failed", system="erp")
        if e.record_id == new_canonical_id("Account", "crm", BP, "9100000002")
    ]
    assert len(raised) == 1
    assert raised[0].details["error_class"] == "RetriableError"
    assert raised[0].details["status"] == 503
    assert raised[0].details["attempts"] == engine_env.runtime.delivery.max_attempts
    faults(engine_env.erp, error_rate=0.0)
    ctx = ReplayContext(engine_env.store, engine_env.exceptions)
    assert replay(ctx, raised[0]).state == "resolved"
    names = [p["OrganizationBPName1"] for p in engine_env.erp_partners().values()]
    assert names.count("Outage Oy") == 1
