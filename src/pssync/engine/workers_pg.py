"""Several workers on one PostgreSQL: liveness heartbeats and recovery of a dead peer's work.

DBOS shares enqueued workflows among all workers, but a workflow a worker had already started
(PENDING under its executor ID) is recovered only by a process launched with that executor ID:
DBOS records no liveness. A worker that never comes back would leave its in-flight pages and
deliveries stuck — and a peer that joins such a workflow by ID would wait on it forever.

So each worker beats into a small table beside the golden store from a background thread, and
on every beat looks for executors whose last beat is older than `stale_after`; their pending
workflows are handed back to their queues with DBOS's own recovery call, which re-enqueues
only rows still PENDING under the dead executor ID — several survivors recovering at once, or
one recovering twice, is harmless. A recovered workflow resumes from its last completed step.

`stale_after` must exceed any pause a live worker can have (the beat runs on its own thread,
so busy queues do not delay it); a worker wrongly declared dead would see its workflows run
elsewhere too, which the engine tolerates (idempotent steps, upserts by external ID) but wastes.
Beats are wall-clock seconds of the beating host, so hosts need synchronised clocks (NTP) to
well within `stale_after`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from dbos import DBOS
from dbos._error import DBOSException
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError

from pssync.engine.dbos_app import launched
from pssync.engine.sql import upsert
from pssync.engine.tables import engine_worker

log = logging.getLogger(__name__)


class Heartbeats:
    """The liveness table: who beat when."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def beat(self, executor_id: str, now: float) -> None:
        with self.engine.begin() as conn:
            upsert(conn, engine_worker, [{"executor_id": executor_id, "beat_at": now}], ["beat_at"])

    def stale(self, now: float, stale_after: float, *, besides: str) -> list[str]:
        c = engine_worker.c
        stmt = select(c.executor_id).where(c.beat_at < now - stale_after, c.executor_id != besides)
        with self.engine.connect() as conn:
            return sorted(str(e) for e in conn.execute(stmt).scalars())

    def forget(self, executor_id: str, before: float) -> None:
        """Drop a dead executor's row, unless it beat again in the meantime."""
        c = engine_worker.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(engine_worker).where(c.executor_id == executor_id, c.beat_at < before)
            )


def recover_executors(executor_ids: list[str]) -> list[str]:
    """Hand the pending workflows of dead executors back to their queues; their IDs.

    DBOS 3.4 exposes this as ``DBOS._recover_pending_workflows`` (what its admin endpoint
    ``/dbos-workflow-recovery`` calls); it re-enqueues, so queue limits still apply.
    """
    if not executor_ids:
        return []
    return [h.get_workflow_id() for h in DBOS._recover_pending_workflows(executor_ids)]


@dataclass
class PeerRecovery:
    """The background beat-and-recover loop of one worker."""

    engine: Engine
    executor_id: str
    interval: float = 2.0
    stale_after: float = 15.0
    recovered: dict[str, list[str]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.heartbeats = Heartbeats(self.engine)

    def tick(self, now: float | None = None) -> list[str]:
        """Beat once, recover every stale peer; the workflow IDs recovered."""
        moment = time.time() if now is None else now
        self.heartbeats.beat(self.executor_id, moment)
        found: list[str] = []
        for dead in self.heartbeats.stale(moment, self.stale_after, besides=self.executor_id):
            workflows = recover_executors([dead])
            if workflows:
                log.warning("recovered %d workflows of dead worker %s", len(workflows), dead)
                self.recovered.setdefault(dead, []).extend(workflows)
            self.heartbeats.forget(dead, before=moment - self.stale_after)
            found += workflows
        return found

    def start(self) -> PeerRecovery:
        self.tick()
        self._thread = threading.Thread(target=self._run, name="pssync-peers", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval) and launched():
            try:
                self.tick()
            except (SQLAlchemyError, DBOSException) as exc:
                # A database blip must not end liveness for good; the next beat retries.
                log.warning("peer heartbeat failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
