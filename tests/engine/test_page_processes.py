"""Pages applied in forked page processes end as pages applied in the worker's own threads."""

from __future__ import annotations

import os
import signal

from pssync.engine import page_processes
from pssync.engine.capture import Poller
from pssync.engine.worker import wait_idle

from .conftest import BP, EngineEnv, bp_row


def _names(env: EngineEnv, rows: list[dict[str, str]]) -> list[str]:
    names = []
    for row in rows:
        found = env.store.resolve_xref("crm", BP, row["BusinessPartner"])
        assert found is not None
        version = env.store.get("Account", found[1])
        assert version is not None
        names.append(version.payload["name"])
    return names


def test_page_processes_apply_the_pages_and_deliver_as_threads_would(
    engine_env: EngineEnv,
) -> None:
    rows = [bp_row(f"Forked {i}") for i in range(120)]
    engine_env.crm.seed({BP: rows})
    page_processes.start(engine_env.runtime, 2)
    try:
        report = Poller(engine_env.runtime, "crm", BP, batch_records=50).run()
        served = page_processes.served()
    finally:
        page_processes.stop()
    assert report.counts == {"applied": 120}
    assert served.pages == 3  # every batch (50, 50, 20 partners) went to a page process
    assert served.statements > 3  # and wrote the golden store from there
    assert len(served.pids) == 2 and os.getpid() not in served.pids
    assert _names(engine_env, rows) == [r["OrganizationBPName1"] for r in rows]
    assert wait_idle(30)
    partners = {p["OrganizationBPName1"] for p in engine_env.erp_partners().values()}
    assert {r["OrganizationBPName1"] for r in rows} <= partners
    # Read again: every record a duplicate, nothing new in the store.
    before = engine_env.store.table_counts()
    again = Poller(engine_env.runtime, "crm", BP).run(full=True)
    assert set(again.counts) <= {"duplicate"}
    assert engine_env.store.table_counts() == before


def test_a_page_process_that_died_leaves_its_pages_to_the_worker(engine_env: EngineEnv) -> None:
    rows = [bp_row(f"Orphaned {i}") for i in range(60)]
    engine_env.crm.seed({BP: rows})
    page_processes.start(engine_env.runtime, 1)
    try:
        os.kill(page_processes.served().pids[0], signal.SIGKILL)
        report = Poller(engine_env.runtime, "crm", BP, batch_records=50).run()
        served = page_processes.served()
    finally:
        page_processes.stop()
    assert served.pages == 0
    assert report.counts == {"applied": 60}
    assert _names(engine_env, rows) == [r["OrganizationBPName1"] for r in rows]
