"""Flow triggers from `pssync.yaml`, and the flows switched on by the runtime builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pssync.config.settings import FlowConfig, Settings
from pssync.flows import triggers
from pssync.flows.triggers import Triggers, from_config
from pssync.governance import quality, stages
from pssync.runtime import build_runtime

OPEN = {"stage": "Proposal", "probability": "70", "is_closed": False, "is_won": False}


def test_stage_and_probability_decide_the_draft() -> None:
    t = from_config({"opportunity_to_project": {"stages": ["Proposal"], "min_probability": 60}})
    assert t.wants_draft(OPEN)
    assert not t.wants_draft({**OPEN, "probability": "50"})
    assert not t.wants_draft({**OPEN, "stage": "Qualification"})
    assert not t.wants_draft({**OPEN, "is_closed": True})
    assert from_config({"opportunity_to_project": {}}).wants_draft({**OPEN, "stage": "Any"})


def test_a_flow_left_out_or_disabled_is_off() -> None:
    t = from_config({"closed_won_handoff": FlowConfig(enabled=False)})
    won = {**OPEN, "is_closed": True, "is_won": True}
    assert not t.wants_handoff(won) and not t.wants_draft(OPEN)
    assert t.routes() == []
    on = from_config({"closed_won_handoff": {"sla_days": 3}, "resource_feedback": {}})
    assert on.wants_handoff(won) and on.sla_days == 3
    assert on.routes() == ["resource_feedback"]
    assert Triggers.lost({**OPEN, "is_closed": True}) and not Triggers.lost(won)


def _governs(checks: list) -> bool:
    """The account checks are among the stages (bound to pssync.yaml's check modes)."""
    return any(getattr(check, "func", check) is quality.account_checks for check in checks)


def test_the_runtime_builder_turns_the_configured_flows_on(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/p.db",
        flows={"resource_feedback": FlowConfig(), "financial_actuals": FlowConfig()},
    )
    try:
        runtime = build_runtime(settings)
        assert runtime.routes == ["resource_feedback", "financial_actuals"]
        assert _governs(runtime.stages.check)
        assert [step.name for step in runtime.after_poll] == ["flows started"]
        assert triggers.current().enabled("financial_actuals")
        assert not triggers.current().enabled("closed_won_handoff")
    finally:
        stages.forget()
        triggers.set_triggers(Triggers())


@pytest.mark.parametrize("flows", [{}])
def test_without_flows_the_engine_keeps_its_builtin_route(tmp_path: Path, flows: dict) -> None:
    runtime = build_runtime(Settings(database_url=f"sqlite:///{tmp_path}/p.db", flows=flows))
    assert runtime.routes == ["account_to_erp"]
    # Governance is not the flows': it runs without them too.
    assert _governs(runtime.stages.check)
    assert [step.name for step in runtime.after_poll] == ["repointed"]
