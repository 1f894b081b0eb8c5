"""Two workers share the queues on PostgreSQL; kill -9 one mid bulk sync and the other
recovers its in-flight workflows and finishes: the target ends exactly as in a clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

from .conftest import BP, bp_row, faults
from .test_crash import _partners

POSTGRES_URL = os.environ.get("PSSYNC_TEST_POSTGRES_URL")
WORKER = Path(__file__).with_name("pg_worker.py")
COUNT = 300

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="PSSYNC_TEST_POSTGRES_URL is not set (point it at a PostgreSQL server to run these)",
    ),
]


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database for the golden store and DBOS's system schema; dropped afterwards."""
    assert POSTGRES_URL
    name = f"pssync_dbos_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_psycopg(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(_psycopg(POSTGRES_URL)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _spawn(config: Path, executor_id: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path.cwd() / "src")}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(config), executor_id],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def _wait_for(predicate: object, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{log.read_text()}")


def _workflows(engine: sa.Engine, executor_id: str | None = None) -> dict[str, int]:
    """Active (pending or enqueued) DBOS workflows by status, optionally of one executor."""
    sql = "SELECT status, count(*) FROM dbos.workflow_status WHERE status IN ('PENDING','ENQUEUED')"
    params = {}
    if executor_id:
        sql += " AND executor_id = :executor"
        params["executor"] = executor_id
    with engine.connect() as conn:
        rows = conn.execute(sa.text(sql + " GROUP BY status"), params).all()
    return {str(status): int(n) for status, n in rows}


def _ran_by(engine: sa.Engine, executor_id: str) -> int:
    """Workflows an executor has dequeued or started, whatever their status now."""
    sql = "SELECT count(*) FROM dbos.workflow_status WHERE executor_id = :executor"
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), {"executor": executor_id}).scalar_one())


def test_a_surviving_worker_finishes_a_killed_workers_bulk_sync(
    tmp_path: Path, pg_database: str
) -> None:
    store = GoldenStore(open_engine(pg_database))  # migrate once, before the workers race
    sysdb = sa.create_engine(pg_database)
    with (
        SapS4Emulator(state_dir=tmp_path / "crm") as crm,
        SapS4Emulator(state_dir=tmp_path / "erp") as erp,
    ):
        rows = [bp_row(f"Shared {i:03d}") for i in range(COUNT)]
        # A slow ERP: one $batch per delivery (not a request per record), so the latency of
        # each call, with one delivery at a time per worker, is what makes the run last.
        faults(erp, latency_ms=200)
        creds = {
            name: {"base_url": e.base_url, **e.credentials()}
            for name, e in (("crm", crm), ("erp", erp))
        }
        config = tmp_path / "worker.json"
        config.write_text(json.dumps({"store_url": pg_database, "stale_after": 2.0, **creds}))
        log = tmp_path / "workers.log"

        first = _spawn(config, "pg-worker-a", log)
        _wait_for(lambda: "started pg-worker-a" in log.read_text(), 60, "worker a", log)
        second = _spawn(config, "pg-worker-b", log)
        try:
            _wait_for(lambda: "started pg-worker-b" in log.read_text(), 60, "worker b", log)
            # The partners appear in the CRM once both workers are up: the bulk sync is then
            # theirs to share, however long the second one took to start.
            crm.seed({BP: rows})
            _wait_for(
                lambda: (
                    len(_partners(erp)) >= 40
                    and _ran_by(sysdb, "pg-worker-b") > 0  # both take work from the queues
                    and _workflows(sysdb, "pg-worker-a")
                ),
                60,
                "both workers busy, worker a with workflows in flight",
                log,
            )
            in_flight = _workflows(sysdb, "pg-worker-a")
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            written_before_kill = len(_partners(erp))
            assert 0 < written_before_kill < COUNT, "the kill did not land mid-run"
            assert in_flight.get("PENDING", 0) > 0, in_flight

            faults(erp, latency_ms=0)
            _wait_for(
                lambda: len(_partners(erp)) >= COUNT and not _workflows(sysdb),
                90,
                "worker b to finish the sync",
                log,
            )
            assert second.poll() is None, log.read_text()
            # What the dead worker had started was recovered and run by the survivor.
            assert not _workflows(sysdb, "pg-worker-a")
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.kill()
                    process.wait()

        partners = _partners(erp)
        external_ids = [p["BusinessPartnerIDByExtSystem"] for p in partners]
        assert len(external_ids) == len(set(external_ids)) == COUNT, "duplicates or losses"
        assert sorted(str(p["OrganizationBPName1"]) for p in partners) == sorted(
            r["OrganizationBPName1"] for r in rows
        )
        assert store.counts() == {"Account": COUNT}
        assert store.table_counts()["record_version"] == COUNT  # one version each
    store.engine.dispose()
    sysdb.dispose()
