"""Pushed events (webhooks): recorded durably at once, drained into page workflows.

One workflow per pushed event through a single-slot queue drained about 6 events/s on SQLite,
so at 20 changes/s webhook latency grew without bound. Instead the ingress only inserts the
event into `engine_pushed_event` (a commit, keyed by its event key: a repeated delivery that is
still waiting is the same row) and wakes the drainer. The drainer takes every waiting event,
labels them as one batch, and hands the batch to the page pipeline as pages of one system's
object each — the same `ingest_page` workflows polling uses (ID derived from the page content),
so a batch applies in one step however many events it holds.

Guarantees, as with polling:

* nothing is lost across a crash: a row is deleted only after its page workflow finished; a
  batch label is written before its pages start, so after a restart the same rows form the same
  pages, which map onto the workflows DBOS recovered (or already finished);
* a duplicate is a no-op: a repeated delivery after its row was drained forms a page whose
  events the inbox already decided (or the very workflow already run);
* one record's changes apply in arrival order and an older version never overwrites a newer
  one: batches are applied one after another, in arrival order within a page, by one drainer at
  a time (a lease row, for several workers on PostgreSQL), and the inbox drops stale versions;
* a poison event never blocks the queue: an event the pipeline cannot take (checked up front by
  `problem_of`, or a page failing with a data error and then the event failing on its own)
  becomes an ``invalid_event`` exception holding the event as its payload, replayable once
  fixed, and is taken off the queue while the rest of its batch is applied. Errors that are not
  about the data (a database blip, a crash) leave the batch claimed, to be tried again.

The tables (`engine/tables.py`, migration 0007) sit beside the golden store, like
`engine_webhook_message`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Engine,
    delete,
    func,
    or_,
    select,
    update,
)

from pssync.engine import runtime
from pssync.engine.pipeline import event_of
from pssync.engine.sql import insert_ignore
from pssync.engine.tables import engine_pushed_event, engine_pushed_lease
from pssync.governance.exceptions import ExceptionRecord, ExceptionStore, NewException
from pssync.governance.replay import ReplayContext, register
from pssync.store.history import utcnow

log = logging.getLogger(__name__)

_LEASE = "drainer"
_wake = threading.Event()
CATEGORY = "invalid_event"
# Failures that say the event's content is wrong, so retrying the same event cannot help.
# Anything else (a database or connection error, a crash) leaves the batch to be retried.
DATA_ERRORS = (ValueError, TypeError, KeyError, ArithmeticError, RecursionError)


def problem_of(record: Any, stamp_field: str = "modified_at") -> str | None:
    """Why the page pipeline would refuse this serialised source record (None: it would not).

    The same rules the pipeline applies, checked before anything is queued or applied: an ID,
    a dict of fields, a change stamp that is an ISO 8601 timestamp, and `deleted` a boolean.
    """
    if not isinstance(record, dict):
        return "the event is not an object"
    record_id = record.get("id")
    if isinstance(record_id, bool) or not isinstance(record_id, str | int) or record_id == "":
        return "id must be a non-empty string or an integer"
    if not isinstance(record.get("data"), dict):
        return "data must be an object"
    stamp = record.get("modified_at")
    if stamp not in (None, ""):
        if not isinstance(stamp, str):
            return f"{stamp_field} must be an ISO 8601 timestamp, not {type(stamp).__name__}"
        try:
            dt.datetime.fromisoformat(stamp)
        except ValueError:
            return f"{stamp_field} {stamp[:64]!r} is not an ISO 8601 timestamp"
    if not isinstance(record.get("deleted", False), bool):
        return "deleted must be true or false"
    return None


def push(engine: Engine, system: str, obj: str, record: dict[str, Any]) -> str:
    """Record one pushed change durably and wake the drainer; the event's stable ID (the same
    for every delivery of the change)."""
    event = event_of(system, obj, record)
    row = {
        "event_key": event.key,
        "system": system,
        "object": obj,
        "record": json.dumps(record, default=str),
        "received_at": utcnow(),
    }
    with engine.begin() as conn:
        insert_ignore(conn, engine_pushed_event, [row])
    _wake.set()
    return f"event:{event.key}"


def waiting(engine: Engine) -> int:
    """Pushed events not drained yet."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(engine_pushed_event)).scalar_one())


def _row_problem(row: Any) -> str | None:
    try:
        return problem_of(json.loads(row.record))
    except (ValueError, RecursionError):
        return "the stored event is not JSON"


def exceptions(engine: Engine) -> ExceptionStore:
    """The running engine's exception store (its routing and notifications), else a plain one."""
    return runtime.current().exceptions if runtime.configured() else ExceptionStore(engine)


@register(CATEGORY)
def replay_event(ctx: ReplayContext, exc: ExceptionRecord, text: str) -> tuple[bool, str]:
    """Queue a set-aside event again (as fixed, when a corrected payload is given)."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as err:
        return False, f"not JSON: {err}"
    reason = problem_of(record)
    if reason is not None or exc.system is None or exc.object is None:
        return False, reason or "the exception names no system and object"
    key = push(ctx.golden.engine, exc.system, exc.object, record)
    return True, f"queued again as {key}; a worker applies it"


def pages_of(rows: list[Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """A batch's rows (in arrival order) as one page per (system, object), first come first."""
    pages: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        pages.setdefault((row.system, row.object), []).append(json.loads(row.record))
    return [(system, obj, records) for (system, obj), records in pages.items()]


@dataclass
class Drainer:
    """The background loop applying pushed events, one batch at a time.

    `interval` bounds how long an event pushed from another process waits to be noticed (one in
    this process wakes the loop at once); `batch_size` caps a batch; `lease` is how long one
    worker drains before another may take over (it renews while it drains).
    """

    engine: Engine
    executor_id: str
    interval: float = 0.1
    batch_size: int = 1000
    lease: float = 15.0
    _until: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def drain(self) -> int:
        """Apply every waiting event (batches claimed earlier first); how many were applied."""
        done = 0
        while self._hold_lease():
            batch = self._claimed() or self._claim()
            if not batch:
                break
            self._apply(batch)
            done += len(batch)
        return done

    def _apply(self, rows: list[Any]) -> None:
        from pssync.engine.capture import apply_page  # capture imports the workflows

        good = []
        for row in rows:
            reason = _row_problem(row)
            if reason is None:
                good.append(row)
            else:
                self._reject(row.system, row.object, row.record, reason)
        for system, obj, records in pages_of(good):
            try:
                apply_page(system, obj, records)
            except DATA_ERRORS:
                # Which event? Each on its own page: the good ones apply, the bad one is set aside.
                for record in records:
                    try:
                        apply_page(system, obj, [record])
                    except DATA_ERRORS as exc:
                        text = json.dumps(record, default=str)
                        self._reject(system, obj, text, f"{type(exc).__name__}: {exc}")
        with self.engine.begin() as conn:
            conn.execute(
                delete(engine_pushed_event).where(engine_pushed_event.c.batch == rows[0].batch)
            )

    def _reject(self, system: str, obj: str, text: str, reason: str) -> None:
        """Raise the poison event as an exception carrying it; the queue moves on."""
        log.warning("pushed %s %s event set aside: %s", system, obj, reason)
        try:
            source_id = str(json.loads(text).get("id"))
        except (ValueError, AttributeError, RecursionError):
            source_id = None
        new = NewException(
            category=CATEGORY,
            message=f"{system} {obj} {source_id}: {reason}",
            system=system,
            object=obj,
            source_id=source_id,
            details={"reason": reason, "stage": "pushed"},
            payload=text,
        )
        exceptions(self.engine).raise_(new, actor="engine")

    def _claimed(self) -> list[Any]:
        """The oldest batch labelled before (by this drainer, or one that stopped midway)."""
        e = engine_pushed_event.c
        with self.engine.connect() as conn:
            label = conn.execute(
                select(e.batch).where(e.batch.is_not(None)).order_by(e.seq).limit(1)
            ).scalar_one_or_none()
        return [] if label is None else self._batch(label)

    def _claim(self) -> list[Any]:
        """Label the waiting events (oldest first, up to `batch_size`) as one new batch."""
        e = engine_pushed_event.c
        label = uuid.uuid4().hex
        with self.engine.begin() as conn:
            seqs = list(
                conn.execute(
                    select(e.seq).where(e.batch.is_(None)).order_by(e.seq).limit(self.batch_size)
                ).scalars()
            )
            if not seqs:
                return []
            conn.execute(
                update(engine_pushed_event)
                .where(e.seq.in_(seqs), e.batch.is_(None))
                .values(batch=label)
            )
        return self._batch(label)

    def _batch(self, label: str) -> list[Any]:
        e = engine_pushed_event.c
        stmt = select(engine_pushed_event).where(e.batch == label).order_by(e.seq)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt))

    def _hold_lease(self) -> bool:
        """Take or renew the drainer lease; False while another worker holds it."""
        now = time.time()
        if self._until - now > self.lease / 2:
            return True
        c = engine_pushed_lease.c
        with self.engine.begin() as conn:
            row = {"name": _LEASE, "holder": self.executor_id, "until": 0.0}
            insert_ignore(conn, engine_pushed_lease, [row])
            taken = conn.execute(
                update(engine_pushed_lease)
                .where(c.name == _LEASE, or_(c.holder == self.executor_id, c.until < now))
                .values(holder=self.executor_id, until=now + self.lease)
            ).rowcount
        self._until = now + self.lease if taken == 1 else 0.0
        return taken == 1

    def _any_waiting(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(engine_pushed_event.c.seq).limit(1)).first() is not None

    def start(self) -> Drainer:
        self._thread = threading.Thread(target=self._run, name="pssync-pushed", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        from pssync.engine.dbos_app import launched

        while not self._stop.is_set() and launched():
            _wake.clear()
            try:
                if self._any_waiting():
                    self.drain()
            except Exception as exc:  # noqa: BLE001 - a page workflow re-raises anything
                # A failed page (database blip, a workflow that errored) stays claimed and is
                # tried again; the events are not lost, and the thread must not die with it.
                log.warning("draining pushed events failed: %s", exc)
                self._stop.wait(1.0)
            _wake.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        _wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
