"""Fix-and-replay of `won_without_erp_project`: a deal won before the handoff's look-back is
raised, not handed off years late; once finance widens the look-back, replaying the exception
runs the handoff, the ERP gets the customer and project, and the exception closes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pssync.flows import triggers
from pssync.flows.triggers import from_config
from pssync.governance.replay import ReplayContext, replay

from .conftest import FLOWS, FlowEnv, make_env, sf_id
from .test_erp_handoffs import FD_NEW

pytestmark = pytest.mark.integration
DEAL = FD_NEW  # an AU01 deal: its ERP is the file drop, whose customer it is not yet


def _flows(lookback_days: int) -> dict[str, dict[str, object]]:
    return {**FLOWS, "closed_won_handoff": {"sla_days": 5, "lookback_days": lookback_days}}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowEnv]:
    yield from make_env(
        tmp_path_factory.mktemp("old-win"), erps=("filedrop",), deals={sf_id("Opportunity", DEAL)}
    )
    triggers.set_triggers(from_config(FLOWS))


def test_an_old_win_is_raised_then_handed_off_after_the_fix_and_replay(env: FlowEnv) -> None:
    triggers.set_triggers(from_config(_flows(30)))
    env.poll("salesforce", "Account", "Opportunity", "OpportunityLineItem")
    before = set(env.read("filedrop", "projects"))
    won = {
        "Id": sf_id("Opportunity", DEAL),
        "StageName": "Closed Won",
        "Probability": 100,
        "CloseDate": "2023-01-16",  # long before a 30-day look-back
    }
    env.edit("salesforce", "Opportunity", "Id", [won])
    env.poll("salesforce", "Opportunity")
    env.dispatch()
    (raised,) = [e for e in env.active("won_without_erp_project") if e.record_id == DEAL]
    assert "look-back" in raised.message
    assert set(env.read("filedrop", "projects")) == before  # nothing created years late

    # Finance decides the deal is to be handed off after all: the look-back is widened.
    triggers.set_triggers(from_config(_flows(3650)))
    done = replay(ReplayContext(env.store, env.exceptions), raised, actor="finance")
    assert done.state == "resolved", done.message
    assert not [e for e in env.active("won_without_erp_project") if e.record_id == DEAL]
    projects = env.read("filedrop", "projects")
    (new,) = set(projects) - before
    project = projects[new]
    crm = env.crm("Opportunity", sf_id("Opportunity", DEAL), "ERP_Project_Code__c")
    assert crm["ERP_Project_Code__c"] == project["code"]
