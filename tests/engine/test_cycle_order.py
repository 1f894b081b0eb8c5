"""A cycle's order holds under failures (issue 14): what the golden store holds, and what the
flows decide from it, does not depend on which calls a flaky system failed.

Real SAP emulators stand in for the CRM and the ERP, both holding customer masters. The CRM is
made to fail every call for one cycle: the ERP, which comes after it, must not be read in that
cycle (its customers would reach the golden store before the accounts they name), and the
after-poll steps (the flows' dispatch) must wait for a cycle that reads everything. The same
records fed in the other order — the ERP's first, then the CRM's — therefore reach the after-poll
step exactly as in a cycle without faults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pssync.connectors.errors import ConnectorError
from pssync.engine.cycle import CycleOptions, run_cycle
from pssync.engine.runtime import CycleStep
from pssync.engine.worker import wait_idle

from .conftest import BP, EngineEnv, bp_row, edit, faults

pytestmark = pytest.mark.integration


class Observer:
    """An after-poll step that notes, each time it runs, the golden accounts it would decide on."""

    def __init__(self, env: EngineEnv) -> None:
        self.env = env
        self.seen: list[set[str]] = []

    def __call__(self, _runtime: object) -> int:
        names = {str(v.payload["name"]) for v in self.env.store.iter_records("Account")}
        self.seen.append(names)
        return len(names)


@pytest.fixture
def observer(engine_env: EngineEnv) -> Iterator[Observer]:
    observer = Observer(engine_env)
    before = engine_env.runtime.after_poll
    engine_env.runtime.after_poll = [CycleStep("decisions", observer)]
    yield observer
    engine_env.runtime.after_poll = before
    faults(engine_env.crm, error_rate=0.0)


def test_a_failing_customer_master_holds_back_the_systems_after_it_and_the_flows(
    engine_env: EngineEnv, observer: Observer
) -> None:
    env = engine_env
    env.crm_edit([bp_row("Order Crm One"), bp_row("Order Crm Two")])
    edit(env.erp, [bp_row("Order Erp One")])
    faults(env.crm, error_rate=1.0, error_statuses=[503], retry_after=0)

    failed = run_cycle(env.runtime, CycleOptions(keep_going=True))

    assert [(s, o) for s, o, _ in failed.failures] == [("crm", BP)]
    assert not [c for c in failed.captures if c.system == "erp"], "the ERP was read first"
    assert failed.deferred == ["decisions"] and failed.after == {} and observer.seen == []
    with pytest.raises(ConnectorError):
        run_cycle(env.runtime)  # `pssync sync` reports the failure; nothing decided either
    assert observer.seen == []

    faults(env.crm, error_rate=0.0)
    done = run_cycle(env.runtime, CycleOptions(keep_going=True))
    assert wait_idle(60)
    assert not done.failures and done.deferred == []
    assert [c.system for c in done.captures][:1] == ["crm"]
    # The one decision is taken on the whole state: every system's records are there.
    assert len(observer.seen) == 1
    assert {"Order Crm One", "Order Crm Two", "Order Erp One"} <= observer.seen[0]
