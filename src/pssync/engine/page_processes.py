"""Page steps applied in worker processes: the pipeline's Python on more than one core.

A bulk sync is CPU-bound in one interpreter: translation, validation, the stages and the golden
write's rows of every record run under one lock, so a second core stays idle (docs/engine.md).
`start(runtime, n)` forks `n` processes that each apply whole pages (`PagePipeline.run`) for
the page step (`workflows.apply_page_step`), which sends the page to an idle one and waits.

- Only plain data crosses: the page's records and events in, its encoded decisions, commands
  and counts out. The child writes the golden store in the same transactions it would in a
  thread; DBOS checkpoints the step, and records the inbox decisions, in the parent, so the
  engine's guarantees do not change: a step the parent never recorded is applied again, and
  applying a page again is harmless (the inbox, unchanged-content no-ops, external IDs).
- The processes are forked before DBOS starts its threads, from the runtime they serve (its
  mappings, stages and store), and drop what they must not share: the database connections,
  HTTP clients and thread-local connectors of the parent. They die with the parent
  (`PR_SET_PDEATHSIG`), so a worker killed mid-page leaves no child writing on.
- A process that dies or fails to answer is dropped and its page applied in the step's own
  thread; with none left, every page is.

Why not `concurrent.futures.ProcessPoolExecutor`: its fork-per-pool workers cannot be told to
drop inherited connections first, its queue-feeder thread pickles in the parent, and a dead
worker breaks the whole pool; the protocol here is a pipe per process (see
docs/decisions/0003-page-processes.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import event

from pssync.engine.inbox import Event
from pssync.engine.runtime import Runtime

_PR_SET_PDEATHSIG = 1


class PageProcessError(RuntimeError):
    """A page failed inside a page process; the message carries the child's traceback."""


class _Pool:
    def __init__(self, runtime: Runtime, count: int) -> None:
        self.runtime = runtime
        self.idle: queue.SimpleQueue[tuple[multiprocessing.process.BaseProcess, Connection]] = (
            queue.SimpleQueue()
        )
        self.alive = 0
        self.served = 0  # pages a page process answered
        self.statements = 0  # SQL statements they ran for those pages
        self.pids: list[int] = []
        self.lock = threading.Lock()
        context = multiprocessing.get_context("fork")
        for _ in range(count):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_serve, args=(runtime, child_end), daemon=True, name="pssync-page"
            )
            process.start()
            child_end.close()
            self.pids.append(int(process.pid or 0))
            self.idle.put((process, parent_end))
            self.alive += 1

    def apply(
        self,
        system: str,
        obj: str,
        records: list[dict[str, Any]],
        correlation_id: str,
        events: list[Event] | None,
    ) -> dict[str, Any] | None:
        """The encoded page result from a page process; None when no process could answer
        (the caller applies the page itself)."""
        while True:
            with self.lock:
                if self.alive == 0:
                    return None
            try:  # not a plain get: the last process may die while this thread waits for it
                process, conn = self.idle.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                conn.send((system, obj, records, correlation_id, events))
                status, value, statements = conn.recv()
            except (EOFError, OSError):
                _drop(process, conn)
                with self.lock:
                    self.alive -= 1
                continue
            self.idle.put((process, conn))
            with self.lock:
                self.served += 1
                self.statements += statements
            if status == "error":
                raise PageProcessError(value)
            return value  # type: ignore[no-any-return]

    def stop(self) -> None:
        with self.lock:
            count, self.alive = self.alive, 0
        for _ in range(count):
            try:
                process, conn = self.idle.get(timeout=30)
            except queue.Empty:
                break
            with contextlib.suppress(OSError):
                conn.send(None)
            _drop(process, conn)


def _drop(process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
    conn.close()
    process.join(timeout=5)
    if process.is_alive():
        process.kill()
        process.join(timeout=5)


def _serve(runtime: Runtime, conn: Connection) -> None:
    """A page process: apply each page sent until told to stop (None) or the parent is gone."""
    _die_with_parent()
    _forget_inherited(runtime)
    from pssync.engine.page_result import encode_result
    from pssync.engine.pipeline import PagePipeline  # the parent imported it already

    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(runtime.store.engine, "before_cursor_execute", count)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        system, obj, records, correlation_id, events = message
        statements[0] = 0
        try:
            result = PagePipeline(runtime, system, obj).run(records, correlation_id, events)
            answer: tuple[str, Any, int] = ("ok", encode_result(result), statements[0])
        except Exception:  # noqa: BLE001 - any failure is the parent's to raise, with its trace
            answer = ("error", traceback.format_exc(), statements[0])
        try:
            conn.send(answer)
        except OSError:
            return


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(0)


def _forget_inherited(runtime: Runtime) -> None:
    """Drop the parent's connections: pooled database connections (`dispose(close=False)`
    leaves them to the parent), thread-local connectors and the notifier's HTTP client."""
    runtime.store.engine.dispose(close=False)
    if runtime.exceptions.engine is not runtime.store.engine:
        runtime.exceptions.engine.dispose(close=False)
    runtime._local = threading.local()
    # The notifier (governance's, when the builder set one) holds an HTTP client of its own.
    notifier = getattr(getattr(runtime.exceptions, "notify", None), "__self__", None)
    renew = getattr(notifier, "renew_client", None)
    if callable(renew):
        renew()


_pool: _Pool | None = None


def start(runtime: Runtime, count: int) -> None:
    """Fork `count` page processes for `runtime` (0: pages are applied in the step's thread).

    Call before DBOS is launched, from a thread that lives as long as the engine: a fork copies
    only the calling thread, and Linux's parent-death signal follows the thread that forked.
    The processes serve the runtime as it is now: stages and mappings changed later are not
    theirs."""
    global _pool
    stop()
    if count > 0:
        _pool = _Pool(runtime, count)


@dataclass(frozen=True)
class Served:
    """What the page processes did since `start`."""

    pages: int = 0
    statements: int = 0  # SQL statements run for those pages
    pids: tuple[int, ...] = ()


def served() -> Served:
    pool = _pool
    if pool is None:
        return Served()
    return Served(pool.served, pool.statements, tuple(pool.pids))


def stop() -> None:
    global _pool
    if _pool is not None:
        _pool.stop()
        _pool = None


def apply(
    runtime: Runtime,
    system: str,
    obj: str,
    records: list[dict[str, Any]],
    correlation_id: str,
    events: list[Event] | None,
) -> dict[str, Any] | None:
    """A page's encoded result from a page process serving `runtime`; None: apply it here."""
    pool = _pool
    if pool is None or pool.runtime is not runtime:
        return None
    return pool.apply(system, obj, records, correlation_id, events)
