"""Canonical JSONL import and export: the bulk door for tests, sample data and backtests.

One line is one fact: ``{"entity_type": ..., "valid_from": ..., "payload": {...}}`` with optional
``system`` and ``source_record``. A bad line is reported with its number and reason, written to
a rejects file that can be fixed and imported again, and never stops the good lines.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import json
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pssync.model import CanonicalValidationError, parse_record
from pssync.store.history import Change, Fact, GoldenStore, json_loads

BATCH_SIZE = 5000
# Imports longer than this parse and validate lines in a worker process while this one writes;
# below it, starting the worker costs more than it saves.
PIPELINE_MIN_LINES = 20_000
_AHEAD = 2  # batches the worker may prepare ahead of the writes


@dataclass
class RejectedLine:
    line_number: int
    reason: str
    text: str


@dataclass
class ImportReport:
    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"line": r.line_number, "reason": r.reason} for r in self.rejected],
        }


def _parse_time(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("valid_from must be an ISO 8601 string")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"valid_from {value!r} has no timezone offset")
    return parsed


def parse_line(text: str, default_system: str) -> Change:
    """Turn one JSONL line into a Change, or raise ValueError saying what is wrong."""
    try:
        obj = json_loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    missing = [k for k in ("entity_type", "valid_from", "payload") if k not in obj]
    if missing:
        raise ValueError(f"missing key(s): {', '.join(missing)}")
    valid_from = _parse_time(obj["valid_from"])
    record = parse_record(str(obj["entity_type"]), obj["payload"])
    system = obj.get("system") or default_system
    return Change(record, valid_from, str(system), obj.get("source_record"))


def import_lines(
    store: GoldenStore,
    lines: Iterable[str],
    *,
    system: str = "import",
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Load canonical lines in batches; each batch is one transaction."""
    with _cyclic_gc_paused():
        return _import_lines(store, lines, system, on_progress)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector for the length of an import.

    A batch keeps thousands of young containers (records, versions, rows) alive until it is
    written, so the collector kept traversing them without freeing anything: about 6% of an
    import's instructions (see docs/decisions/0001). Reference counting still frees everything
    as usual; cycles made meanwhile are collected once the collector is back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# A prepared batch: its facts, its rejected lines, and how many non-blank lines it had.
_Prepared = tuple[list[Fact], list[RejectedLine], int]


def _prepare(numbered: list[tuple[int, str]], system: str) -> _Prepared:
    """Parse, validate and serialise one batch of (line number, text): plain values only, so it
    can run in a worker process and cross back cheaply."""
    facts: list[Fact] = []
    rejected: list[RejectedLine] = []
    count = 0
    for number, raw in numbered:
        text = raw.strip()
        if not text:
            continue
        count += 1
        try:
            facts.append(Fact.of(parse_line(text, system)))
        except (ValueError, CanonicalValidationError) as exc:
            rejected.append(RejectedLine(number, str(exc), text))
    return facts, rejected, count


def _import_lines(
    store: GoldenStore,
    lines: Iterable[str],
    system: str,
    on_progress: Callable[[int], None] | None,
) -> ImportReport:
    report = ImportReport()
    numbered = enumerate(lines, start=1)
    # Look ahead far enough to know whether the import is large enough for the worker.
    head = list(itertools.islice(numbered, PIPELINE_MIN_LINES + 1))
    batches = _batches(itertools.chain(head, numbered))
    if len(head) > PIPELINE_MIN_LINES:
        prepared = _prepared_in_worker(batches, system)
    else:
        prepared = (_prepare(batch, system) for batch in batches)
    for facts, rejected, count in prepared:
        report.lines += count
        for r in rejected:  # in line order, reported as they come, as before
            report.rejected.append(r)
            if on_progress is not None:
                on_progress(1)
        if facts:
            result = store.write_facts(facts, actor="import")
            report.created += result.created
            report.updated += result.updated
            report.unchanged += result.unchanged
            if on_progress is not None:
                on_progress(len(facts))
    return report


def _batches(numbered: Iterator[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """Runs of lines holding BATCH_SIZE non-blank lines (the last may hold fewer)."""
    batch: list[tuple[int, str]] = []
    filled = 0
    for item in numbered:
        batch.append(item)
        if item[1].strip():
            filled += 1
            if filled >= BATCH_SIZE:
                yield batch
                batch, filled = [], 0
    if batch:
        yield batch


def _prepared_in_worker(
    batches: Iterator[list[tuple[int, str]]], system: str
) -> Iterator[_Prepared]:
    """`_prepare` each batch in one worker process, up to `_AHEAD` batches ahead of the writes.

    Parsing, validation, dumping and hashing are about half of an import's Python work and do
    not touch the database, so on two cores they overlap with writing the previous batch. A
    thread would not do: both halves are Python, and writing on a thread was measured slower
    (docs/decisions/0001). Facts come back as plain tuples; pydantic objects never cross.
    """
    methods = multiprocessing.get_all_start_methods()
    # fork starts in milliseconds with everything imported; the worker never touches the
    # parent's database connections (it only parses) and exits without running finalisers.
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending: deque[tuple[list[tuple[int, str]], Future[_Prepared] | None]] = deque()

        def submit(batch: list[tuple[int, str]]) -> None:
            try:
                pending.append((batch, pool.submit(_prepare, batch, system)))
            except BrokenProcessPool:
                pending.append((batch, None))

        def take() -> _Prepared:
            batch, future = pending.popleft()
            if future is not None:
                try:
                    return future.result()
                except BrokenProcessPool:  # the worker died (killed, out of memory): go on here
                    pass
            return _prepare(batch, system)

        first = next(batches, None)
        for batch in itertools.islice(batches, _AHEAD):
            submit(batch)
        if first is not None:  # prepared here while the worker starts on the next ones
            yield _prepare(first, system)
        for batch in batches:
            submit(batch)
            yield take()
        while pending:
            yield take()


def import_file(
    store: GoldenStore,
    path: Path,
    *,
    system: str = "import",
    rejects_path: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a JSONL file; rejected lines go to `rejects_path` (else ``FILE.rejected.jsonl``)."""
    with path.open(encoding="utf-8") as handle:
        report = import_lines(store, handle, system=system, on_progress=on_progress)
    if report.rejected:
        target = rejects_path or path.with_suffix(".rejected.jsonl")
        with target.open("w", encoding="utf-8") as out:
            for r in report.rejected:
                out.write(json.dumps({"line": r.line_number, "reason": r.reason, "text": r.text}))
                out.write("\n")
    return report


def export_lines(
    store: GoldenStore,
    *,
    entity_type: str | None = None,
    known_at: dt.datetime | None = None,
    history: bool = False,
) -> Iterator[str]:
    """Canonical lines for the current records, or every valid-time version with `history`."""
    versions = (
        store.iter_versions(entity_type, known_at=known_at)
        if history
        else store.iter_records(entity_type, known_at=known_at)
    )
    for v in versions:
        line = {
            "entity_type": v.entity_type,
            "valid_from": v.valid_from.isoformat(),
            "payload": v.payload,
        }
        yield json.dumps(line, sort_keys=True, ensure_ascii=False)


def write_export(lines: Iterable[str], out: IO[str]) -> int:
    count = 0
    for line in lines:
        out.write(line + "\n")
        count += 1
    return count
