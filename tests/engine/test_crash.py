"""Crash recovery: kill -9 a worker mid bulk sync, restart it, the target ends as a clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pssync.config.settings import Settings
from pssync.connectors.sap_s4 import SapS4Connector
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

from .conftest import BP, bp_row, connector_factory, faults

WORKER = Path(__file__).with_name("crash_worker.py")
COUNT = 300
# What a worker forks when `pssync.yaml` says nothing (one page process per core).
DEFAULT_PAGE_PROCESSES = Settings.model_fields["page_processes"].get_default(
    call_default_factory=True
)


def _partners(erp: SapS4Emulator) -> list[dict[str, object]]:
    connector: SapS4Connector = connector_factory(erp, page_size=500)()
    try:
        return [r.data for page in connector.snapshot(BP) for r in page.records]
    finally:
        connector.close()


def _run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path.cwd() / "src")}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(config)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def _page_processes(log: Path) -> list[int]:
    """The page processes the first worker reported starting with."""
    for line in log.read_text().splitlines():
        if line.startswith("started "):
            return list(json.loads(line.removeprefix("started "))["page_processes"])
    return []


def _gone(pid: int) -> bool:
    """No such process any more (or only its exit status is left)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "State:\tZ" in status


@pytest.mark.parametrize(
    "page_processes", [0, DEFAULT_PAGE_PROCESSES], ids=["threads", "default-page-processes"]
)
def test_kill_9_mid_sync_then_restart_ends_like_a_clean_run(
    tmp_path: Path, page_processes: int
) -> None:
    with (
        SapS4Emulator(state_dir=tmp_path / "crm") as crm,
        SapS4Emulator(state_dir=tmp_path / "erp") as erp,
    ):
        rows = [bp_row(f"Crash {i:03d}") for i in range(COUNT)]
        crm.seed({BP: rows})
        # Slow enough that the kill lands mid-run: SAP writes go in one $batch per delivery, so
        # the CRM's pages are slowed down and the deliveries follow them one by one.
        faults(erp, latency_ms=8)
        faults(crm, latency_ms=300)
        creds = {
            name: {"base_url": e.base_url, **e.credentials()}
            for name, e in (("crm", crm), ("erp", erp))
        }
        store_url = f"sqlite:///{tmp_path}/pssync.db"
        config = tmp_path / "worker.json"
        config.write_text(
            json.dumps({"store_url": store_url, "page_processes": page_processes, **creds})
        )
        log = tmp_path / "worker.log"

        first = _run(config, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_partners(erp)) < 40:
            assert first.poll() is None, log.read_text()
            time.sleep(0.1)
        written_before_kill = len(_partners(erp))
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert 0 < written_before_kill < COUNT, "the kill did not land mid-run"
        children = _page_processes(log)
        assert len(children) == page_processes
        deadline = time.monotonic() + 10  # the page processes die with the worker
        while time.monotonic() < deadline and not all(_gone(pid) for pid in children):
            time.sleep(0.05)
        assert all(_gone(pid) for pid in children), "a page process outlived its worker"

        faults(erp, latency_ms=0)
        faults(crm, latency_ms=0)
        second = _run(config, log)
        assert second.wait(timeout=120) == 0, log.read_text()

        partners = _partners(erp)
        external_ids = [p["BusinessPartnerIDByExtSystem"] for p in partners]
        assert len(external_ids) == len(set(external_ids)) == COUNT, "duplicates or losses"
        assert sorted(str(p["OrganizationBPName1"]) for p in partners) == sorted(
            r["OrganizationBPName1"] for r in rows
        )
        store = GoldenStore(open_engine(store_url))
        assert store.counts() == {"Account": COUNT}
        assert store.table_counts()["record_version"] == COUNT  # one version each, no re-applies
