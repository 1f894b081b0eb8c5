"""DBOS Transact configured from the pssync database URL, launched once per process.

The engine keeps no queue or lock service of its own: durable workflows, idempotency by
workflow ID, queues with concurrency and rate limits and crash recovery all come from DBOS.
Its system database follows the golden store: a SQLite file next to ``pssync.db`` on one
machine (nothing to install), the same PostgreSQL database (its own ``dbos`` schema) when the
store is PostgreSQL, so every ``pssync worker`` shares the queues.

DBOS is a process-wide singleton; `launch` is idempotent for one URL and `shutdown` lets tests
and the CLI start it again on another database.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dbos import DBOS, DBOSConfig
from dbos._error import DBOSException
from sqlalchemy.engine import make_url

from pssync.store.db import WAL_AUTOCHECKPOINT_PAGES, database_url

APP_NAME = "pssync"
# Fixed, not DBOS's hash of the registered code: a worker restarted with the same release (or a
# test process with extra workflows) must recover and dequeue the workflows the last one left.
APP_VERSION = "pssync-engine-1"
# Where earlier releases enqueued one workflow per pushed event; pushed events are now batched
# into page workflows (`pushed.py`), and the queue stays registered so that workflows left in it
# by an earlier release still run.
INGEST_QUEUE = "ingest"
LEGACY_POLLING_INTERVAL = 2.0


@dataclass(frozen=True)
class QueueSettings:
    """Flow control of one target system's delivery queue."""

    worker_concurrency: int = 4
    global_concurrency: int | None = None
    rate_limit: int | None = None
    rate_period: float = 1.0


@dataclass(frozen=True)
class EngineSettings:
    """What `launch` needs; `queues` maps target system -> its delivery queue settings."""

    store_url: str
    system_database_url: str | None = None
    executor_id: str | None = None
    queues: dict[str, QueueSettings] = field(default_factory=dict)
    polling_interval: float = 0.1
    log_level: str = "WARNING"


_launched_url: str | None = None


def system_database_url(store_url: str) -> str:
    """Where DBOS keeps its state for this golden store.

    ``sqlite:///dir/pssync.db`` -> ``sqlite:///dir/pssync.dbos.sqlite``; a PostgreSQL store URL
    is used as is (DBOS creates its ``dbos`` schema there).
    """
    url = make_url(database_url(store_url))
    if url.get_backend_name() == "sqlite":
        name = url.database or ""
        if not name or name == ":memory:":
            raise ValueError("the engine needs a file or server database, not in-memory SQLite")
        path = Path(name)
        return f"sqlite:///{path.with_name(path.stem + '.dbos.sqlite')}"
    return url.render_as_string(hide_password=False)


def default_executor_id() -> str:
    """Stable per host and process slot, so a restarted worker recovers its own workflows."""
    return os.environ.get("PSSYNC_EXECUTOR_ID") or socket.gethostname() or "local"


def queue_name(system: str) -> str:
    """The delivery queue of one target system."""
    return f"deliver-{system}"


def sqlite_connector(sys_url: str) -> Callable[[], sqlite3.Connection]:
    """Connections to DBOS's SQLite system database in WAL mode with synchronous=NORMAL, as
    the golden store's are.

    DBOS leaves SQLite in its default rollback journal with a full sync per commit and starts
    every transaction IMMEDIATE, so readers wait for writers and each of a workflow's several
    checkpoints pays an fsync: that, not the pipeline, was most of a page workflow's time. WAL
    lets readers run beside the one writer; NORMAL syncs at checkpoints, which loses nothing
    when the process dies (kill -9), only possibly the last commits on a power cut. DBOS passes
    `db_engine_kwargs` to `sqlalchemy.create_engine` (DBOSConfig docs) and still adds its own
    connect hooks (IMMEDIATE, busy timeout, foreign keys) to the connections made here.
    """
    path = make_url(sys_url).database or ""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        return conn

    return connect


def launch(settings: EngineSettings) -> None:
    """Configure and launch DBOS (once per URL), then register the delivery queues.

    Queues are registered after launch because DBOS persists their configuration in its system
    database; registering again updates concurrency and rate limits from the settings.
    """
    global _launched_url
    sys_url = settings.system_database_url or system_database_url(settings.store_url)
    if _launched_url is not None and _launched_url != sys_url:
        shutdown()
    if _launched_url is None:
        config: DBOSConfig = {
            "name": APP_NAME,
            "system_database_url": sys_url,
            "application_version": APP_VERSION,
            "executor_id": settings.executor_id or default_executor_id(),
            "log_level": settings.log_level,
            "notification_listener_polling_interval_sec": 0.05,
        }
        if sys_url.startswith("sqlite"):
            config["db_engine_kwargs"] = {"creator": sqlite_connector(sys_url)}
        DBOS(config=config)
        DBOS.launch()
        _launched_url = sys_url
    DBOS.register_queue(
        INGEST_QUEUE,
        worker_concurrency=1,
        # Only leftovers of an earlier release arrive here: poll rarely (each poll of a SQLite
        # system database takes its write lock).
        polling_interval_sec=max(settings.polling_interval, LEGACY_POLLING_INTERVAL),
        on_conflict="always_update",
    )
    for system, queue in settings.queues.items():
        register_delivery_queue(system, queue, settings.polling_interval)


def register_delivery_queue(system: str, queue: QueueSettings, polling_interval: float) -> None:
    limiter = {"limit": queue.rate_limit, "period": queue.rate_period} if queue.rate_limit else None
    DBOS.register_queue(
        queue_name(system),
        worker_concurrency=queue.worker_concurrency,
        global_concurrency=queue.global_concurrency,
        limiter=limiter,  # type: ignore[arg-type]
        polling_interval_sec=polling_interval,
        on_conflict="always_update",
    )


def launched() -> bool:
    return _launched_url is not None


class InterruptedWorkflows(logging.Filter):
    """Turns the traceback of a workflow that was still running when `shutdown` destroyed DBOS
    into one line. Such a workflow (a page batch still applying when a sync stopped on a read
    error) fails at its next checkpoint, because the system database is gone; what it did
    before is checkpointed, it stays PENDING under this executor ID, and the next launch with
    that ID (the next `pssync sync`, the restarted worker) recovers it from its last step, so
    nothing is lost and the traceback told the user nothing they could act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, DBOSException) or STOPPED not in str(error):
            return True
        record.msg, record.args, record.exc_info, record.exc_text = INTERRUPTED, (), None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


STOPPED = "System database accessed before DBOS was launched"
INTERRUPTED = (
    "a workflow still running when the engine stopped was interrupted at its last checkpoint; "
    "the next start with this executor ID recovers it"
)
_interrupted = InterruptedWorkflows()


def shutdown() -> None:
    """Destroy the DBOS instance but keep the registered workflows for a later launch;
    workflows still running stop at their next checkpoint (see `InterruptedWorkflows`)."""
    global _launched_url
    dbos_logger = logging.getLogger("dbos")
    if _interrupted not in dbos_logger.filters:
        dbos_logger.addFilter(_interrupted)
    _launched_url = None
    DBOS.destroy(destroy_registry=False)
    from pssync.engine import page_processes  # imported late: it imports the pipeline

    page_processes.stop()
