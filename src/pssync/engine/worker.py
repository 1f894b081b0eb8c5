"""Starting the engine in a process, and waiting for its queues to drain.

A worker is: the runtime (store, connectors, mappings, routes) set for this process, DBOS
launched on the system database that belongs to the golden store, one delivery queue per
connected system. Several workers on PostgreSQL share the queues; each should run with its
own stable ``PSSYNC_EXECUTOR_ID`` so that, restarted, it recovers the workflows it left; on
PostgreSQL each also beats a heartbeat and recovers the workflows of a peer that stopped
beating (`workers_pg.py`), so a worker that never comes back loses nothing either.
"""

from __future__ import annotations

import time

from dbos import DBOS

from pssync.engine import dead_letter as _dead_letter  # noqa: F401 - registers replay handlers
from pssync.engine import page_processes as _page_processes
from pssync.engine import workflows as _workflows  # noqa: F401 - registers the workflows
from pssync.engine.dbos_app import (
    EngineSettings,
    QueueSettings,
    launch,
    system_database_url,
)
from pssync.engine.pushed import Drainer, waiting
from pssync.engine.runtime import Runtime, configured, current, set_runtime
from pssync.engine.workers_pg import PeerRecovery

ACTIVE = ["PENDING", "ENQUEUED"]

_peers: PeerRecovery | None = None
_drainer: Drainer | None = None


def start(
    runtime: Runtime,
    store_url: str,
    *,
    queues: dict[str, QueueSettings] | None = None,
    executor_id: str | None = None,
    polling_interval: float = 0.1,
    peer_recovery: bool | None = None,
    heartbeat: float = 2.0,
    stale_after: float = 15.0,
    page_processes: int = 0,
) -> None:
    """Make `runtime` current and launch DBOS with a delivery queue per connector.

    `page_processes` > 0 forks that many processes to apply pages in (`page_processes.py`):
    a bulk sync then uses more than one core.

    `peer_recovery` (default: when the system database is PostgreSQL, where several workers
    share it) starts the heartbeat-and-recover thread; every worker needs its own executor ID.
    Every worker also drains pushed events (webhooks) into page workflows, one at a time.
    """
    global _peers, _drainer
    set_runtime(runtime)
    _page_processes.start(runtime, page_processes)  # forks: before DBOS starts its threads
    configured = dict(queues or {})
    for system in runtime.connectors:
        configured.setdefault(system, QueueSettings())
    launch(
        EngineSettings(
            store_url=store_url,
            executor_id=executor_id,
            queues=configured,
            polling_interval=polling_interval,
        )
    )
    if _peers is not None:
        _peers.stop()
        _peers = None
    if peer_recovery is None:
        peer_recovery = system_database_url(store_url).startswith("postgresql")
    executor = str(DBOS.executor_id)  # what DBOS was launched with, maybe earlier
    if peer_recovery:
        _peers = PeerRecovery(runtime.store.engine, executor, heartbeat, stale_after).start()
    stop_drainer()
    _drainer = Drainer(runtime.store.engine, executor).start()


def stop_drainer() -> None:
    """Stop this process's pushed-event drainer (another worker, or `start`, drains later)."""
    global _drainer
    if _drainer is not None:
        _drainer.stop()
        _drainer = None


def active_workflows() -> int:
    """Workflows still pending or enqueued (deliveries in flight, retries sleeping)."""
    return len(DBOS.list_workflows(status=ACTIVE, load_input=False, load_output=False))


def idle() -> bool:
    """No pushed event waits and no workflow is pending or enqueued."""
    if configured() and waiting(current().store.engine):
        return False
    return active_workflows() == 0


def wait_idle(timeout: float = 60.0, interval: float = 0.1) -> bool:
    """Block until `idle`; False if `timeout` passed first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if idle():
            return True
        time.sleep(interval)
    return idle()
