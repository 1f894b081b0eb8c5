"""Polling consumer: change capture per connector and object, with durable cursors.

The connector's pages are applied in batches of whole pages (up to `BATCH_RECORDS` records),
each one `ingest_page` workflow whose ID is derived from the batch's content; the cursor that
ends the batch is stored only once that workflow finished. A crash therefore re-reads at most
the batch in flight (and the pages read ahead), which the same cursor cuts into the same batch
and so maps onto the same workflow (or is deduplicated by the inbox): nothing is applied twice
and nothing is skipped. Transient read failures apply the pages read before them, then restart
the read from the stored cursor after a backoff.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from pssync.connectors.base import Page, SourceRecord
from pssync.connectors.errors import QuotaExhaustedError, RetriableError
from pssync.engine.backfill import first_sync_page
from pssync.engine.deliver import backoff
from pssync.engine.held import Held
from pssync.engine.nesting import NESTED
from pssync.engine.page_runs import PageRun, apply_page, start_page
from pssync.engine.records import source_record
from pssync.engine.runtime import Runtime
from pssync.engine.sql import upsert
from pssync.engine.tables import engine_cursor
from pssync.engine.workflows import forget_events
from pssync.store.history import utcnow

DELETES = "#deletes"
# Records per page workflow: connector pages are applied together up to this many.
BATCH_RECORDS = 2000

# One reader thread per source system: it fetches the next page while the current one is
# applied, and keeps its connector (sessions, tokens) from one poll to the next.
_readers: dict[str, ThreadPoolExecutor] = {}
_readers_lock = threading.Lock()


def _reader(system: str) -> ThreadPoolExecutor:
    with _readers_lock:
        if system not in _readers:
            _readers[system] = ThreadPoolExecutor(1, thread_name_prefix=f"pssync-read-{system}")
        return _readers[system]


def read_ahead(
    runtime: Runtime, system: str, obj: str, cursor: str | None, depth: int = 1
) -> Iterator[Page]:
    """The connector's pages for `obj` from `cursor` (each record preceded by its history on a
    first sync, see `backfill`), each fetched while the caller applies
    the ones before (`depth` pages ahead, no more: a crash re-reads at most those too).

    The reader is one thread, so the pages are still read one after the other, in order; a
    read that fails raises here, at the page it would have returned."""
    reader = _reader(system)

    def read() -> Iterator[Page]:
        connector = runtime.connector(system)
        for page in connector.changes(obj, cursor):
            if cursor is None:  # a first (or full) sync: backfill history in valid time
                page.records = first_sync_page(runtime, system, connector, obj, page.records)
            yield page

    pages = reader.submit(read).result()
    ahead: deque[Future[Page | None]] = deque(
        reader.submit(next, pages, None) for _ in range(max(1, depth))
    )
    while (page := ahead.popleft().result()) is not None:
        ahead.append(reader.submit(next, pages, None))
        yield page


class Cursors:
    """Where change capture got to, per (system, object)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, system: str, obj: str) -> str | None:
        c = engine_cursor.c
        with self.engine.connect() as conn:
            row = conn.execute(select(c.cursor).where(c.system == system, c.object == obj)).first()
        return None if row is None else row.cursor

    def save(self, system: str, obj: str, cursor: str | None) -> None:
        with self.engine.begin() as conn:
            upsert(
                conn,
                engine_cursor,
                [{"system": system, "object": obj, "cursor": cursor, "updated_at": utcnow()}],
                ["cursor", "updated_at"],
            )

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(engine_cursor))]


@dataclass
class CaptureReport:
    system: str
    object: str
    pages: int = 0
    records: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    exceptions_closed: int = 0  # held records a full run re-read and applied

    def add(self, result: dict[str, Any], pages: int = 1) -> None:
        self.pages += pages
        for status, n in result["counts"].items():
            self.counts[status] = self.counts.get(status, 0) + n
            self.records += n


def serialise(record: SourceRecord) -> dict[str, Any]:
    stamp = record.modified_at.isoformat() if record.modified_at else None
    return source_record(record.id, record.data, stamp, record.deleted)


# Batches of one object applied at once (`concurrent_batches`): two keep one busy in Python
# while the other waits on the database; more only queue on the one SQLite writer.
CONCURRENT_BATCHES = 2
# Canonical fields naming a record of the object's own kind (a WBS element's parent).
SELF_REFERENCES = frozenset({"parent_id"})


def concurrent_batches(runtime: Runtime, system: str, obj: str) -> int:
    """How many batches of `obj` may be applied side by side: `CONCURRENT_BATCHES`, or 1 when
    one batch could read what another writes. Batches running together never share a record
    (the poller checks each); beyond that the object must not nest into a parent record (two
    batches of one deal's lines would both write the deal), hold nested lines, or name records
    of its own kind (a parent still being written by the other batch)."""
    spec = runtime.translator(system).object_map(obj)
    nested = spec.entity in NESTED or any(n.parent == spec.entity for n in NESTED.values())
    if nested or not SELF_REFERENCES.isdisjoint(spec.fields):
        return 1
    return CONCURRENT_BATCHES


# Called with (system, object, records) once a batch of pages is applied: progress bars.
OnPage = Callable[[str, str, int], None]


class Poller:
    """Reads one object's changes (and deletes) from one system until caught up, or until
    `max_pages` pages were read (the cursor is stored after every batch, so what a cap leaves
    unread is picked up by the next poll, exactly as after an interrupted sync)."""

    def __init__(
        self,
        runtime: Runtime,
        system: str,
        obj: str,
        *,
        max_retries: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        batch_records: int = BATCH_RECORDS,
        in_flight: int | None = None,
        max_pages: int | None = None,
        on_page: OnPage | None = None,
    ) -> None:
        self.rt, self.system, self.obj = runtime, system, obj
        self.cursors = Cursors(runtime.store.engine)
        self.max_retries, self.sleep = max_retries, sleep
        self.batch_records = max(1, batch_records)
        self.in_flight = max(1, in_flight or concurrent_batches(runtime, system, obj))
        self.max_pages, self.on_page = max_pages, on_page
        self.read = 0  # pages read so far (for `max_pages`)
        self.report = CaptureReport(system, obj)
        self.held: Held | None = None  # a full run's records held by exceptions (`held`)

    def run(self, *, full: bool = False) -> CaptureReport:
        """Poll until caught up; `full` starts over from the beginning (the inbox and the
        golden store's no-op writes make a full re-read cheap in effects) and reads the records
        held by exceptions again as new events, closing the exceptions of those that land."""
        if full:
            self.cursors.save(self.system, self.obj, None)
            self.held = Held.load(self.rt.store.engine, self.system, self.obj)
        self._retrying(self._changes)
        self._retrying(self._deletes)
        if self.held is not None:
            closed = self.held.close_landed(self.rt.store.engine, self.rt.exceptions)
            self.report.exceptions_closed = closed
        return self.report

    def _retrying(self, read: Callable[[], None]) -> None:
        """Run `read`, restarting it from the stored cursor after transient failures; the
        count of consecutive failures starts over whenever a page was applied in between."""
        failures, progress = 0, self.report.pages
        while True:
            try:
                read()
                return
            except RetriableError as exc:
                if self.report.pages != progress:
                    failures, progress = 0, self.report.pages
                failures += 1
                self.report.retries += 1
                if failures > self.max_retries:
                    raise
                self.sleep(backoff(failures, self.rt.delivery, exc.retry_after))
            except QuotaExhaustedError as exc:
                failures += 1
                if failures > self.max_retries or exc.resets_at is None:
                    raise
                self.sleep(max(1.0, (exc.resets_at - utcnow()).total_seconds()))

    def _changes(self) -> None:
        """Apply the connector's pages in batches of about `batch_records` records (whole
        pages, at least one), one workflow each, and store the cursor after each batch.

        A page workflow costs the same few checkpoints and queries whatever its size, and
        connectors' pages are small (Kantata's are 200 records at most), so a batch of pages
        in one workflow pays them once. The pages of a batch are read ahead while the batch
        before is applied. A read that fails applies the pages read before it first, so a
        flaky source still makes progress page by page.

        Up to `in_flight` batches run at once when they share no record (see
        `concurrent_batches`): one applies its page in Python while the other waits on the
        database. Batches are waited for in order and a batch's cursor is stored only once it
        and every batch before it finished, so a crash still re-reads from the oldest batch
        not done, which maps onto the same workflows."""
        cursor = self.cursors.get(self.system, self.obj)
        pending: list[dict[str, Any]] = []
        pages, pending_cursor = 0, cursor
        running: deque[tuple[PageRun, int, str | None]] = deque()

        def settle() -> None:
            nonlocal cursor
            run, run_pages, run_cursor = running.popleft()
            if run.records:  # not a cursor-only entry (pages that held no record)
                self.report.add(run.result(), run_pages)
                if self.on_page is not None:
                    self.on_page(self.system, self.obj, run.records)
            if run_cursor is not None and run_cursor != cursor:
                cursor = run_cursor
                self.cursors.save(self.system, self.obj, cursor)

        def flush(*, last: bool = False) -> None:
            nonlocal pending, pages
            ids = {str(r["id"]) for r in pending}
            while running and (
                len(running) >= self.in_flight
                or any(not run.source_ids.isdisjoint(ids) for run, _, _ in running)
            ):
                settle()
            if pending:
                running.append((start_page(self.system, self.obj, pending), pages, pending_cursor))
            elif pending_cursor is not None:
                running.append((PageRun("", frozenset(), None, 0), 0, pending_cursor))
            pending, pages = [], 0
            while running and (last or len(running) > self.in_flight):
                settle()

        depth = max(1, -(-self.batch_records // self._page_size()))
        if self.max_pages is not None:  # read no further ahead than the cap
            depth = max(1, min(depth, self.max_pages - self.read))
        reading = read_ahead(self.rt, self.system, self.obj, cursor, depth)
        try:
            while True:
                try:
                    page = next(reading, None)
                except Exception:
                    flush(last=True)
                    raise
                if page is None:
                    break
                records = [serialise(r) for r in page.records]
                if self.held is not None and (self.held.by_source or self.held.landed):
                    records = [self.held.tag_record(r) for r in records]
                pending += records
                pages += 1
                self.read += 1
                if page.cursor is not None:
                    pending_cursor = page.cursor
                if self.max_pages is not None and self.read >= self.max_pages:
                    break
                if len(pending) >= self.batch_records:
                    flush()
            flush(last=True)
        finally:  # after a failure, batches still running finish on their own, uncounted
            for run, _, _ in running:
                forget_events(run.workflow_id)

    def _page_size(self) -> int:
        """The connector's records per read (for how far to read ahead), 200 if it says not."""
        size = getattr(self.rt.connector(self.system), "read_page_size", None)
        return size if isinstance(size, int) and size > 0 else 200

    def _deletes(self) -> None:
        key = self.obj + DELETES
        cursor = self.cursors.get(self.system, key)
        deletions, after = self.rt.connector(self.system).deletes(self.obj, cursor)
        if deletions:
            records = [
                source_record(d.id, {}, d.deleted_at.isoformat(), deleted=True) for d in deletions
            ]
            self.report.add(apply_page(self.system, self.obj, records))
        if after is not None and after != cursor:
            self.cursors.save(self.system, key, after)


def poll(
    runtime: Runtime, system: str, objects: list[str], *, full: bool = False
) -> list[CaptureReport]:
    """Capture every listed object of one system, in order."""
    return [Poller(runtime, system, obj).run(full=full) for obj in objects]
