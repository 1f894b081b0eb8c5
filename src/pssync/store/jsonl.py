"""Canonical JSONL import and export: the bulk door for tests, sample data and backtests.

One line is one fact: ``{"entity_type": ..., "valid_from": ..., "payload": {...}}`` with optional
``system`` and ``source_record``. A bad line is reported with its number and reason, written to
a rejects file that can be fixed and imported again, and never stops the good lines: that holds
for bytes that are not UTF-8 and for lines over `MAX_LINE_BYTES` (read no further than the
limit) too. A line repeating the entity, ID and valid time of an earlier line of the same import
is reported: an identical one is skipped, one with other content is rejected (the first kept),
since which of the two is right is for a person to say.
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
from typing import IO, Any, BinaryIO

from pssync.model import CanonicalValidationError, parse_record
from pssync.store.history import Change, Fact, GoldenStore, json_loads

BATCH_SIZE = 5000
# Imports longer than this parse and validate lines in a worker process while this one writes;
# below it, starting the worker costs more than it saves.
PIPELINE_MIN_LINES = 20_000
_AHEAD = 2  # batches the worker may prepare ahead of the writes
MAX_LINE_BYTES = 1 << 20  # a canonical record is a few KiB; a longer line is refused unread
_BOM = "\ufeff"


@dataclass(frozen=True)
class LineProblem:
    """A line refused before parsing (not UTF-8, too long), with what text could be kept."""

    reason: str
    text: str


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
    repeated: list[tuple[int, int]] = field(default_factory=list)  # (line, line it repeats)

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"line": r.line_number, "reason": r.reason} for r in self.rejected],
            "repeated": [{"line": n, "repeats_line": first} for n, first in self.repeated],
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
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    missing = [k for k in ("entity_type", "valid_from", "payload") if k not in obj]
    if missing:
        raise ValueError(f"missing key(s): {', '.join(missing)}")
    valid_from = _parse_time(obj["valid_from"])
    record = parse_record(str(obj["entity_type"]), obj["payload"])
    system = obj.get("system") or default_system
    return Change(record, valid_from, str(system), obj.get("source_record"))


def read_lines(handle: BinaryIO, max_bytes: int = MAX_LINE_BYTES) -> Iterator[str | LineProblem]:
    """The lines of a binary file as text, or as a `LineProblem` when one is not UTF-8 or is
    longer than `max_bytes` (the rest of such a line is skipped, never held in memory)."""
    first = True
    while raw := handle.readline(max_bytes + 1):
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            size, more = len(raw), raw
            while more and not more.endswith(b"\n"):
                more = handle.readline(1 << 16)
                size += len(more)
            reason = f"line is {size:,} bytes, over the limit of {max_bytes:,}"
            yield LineProblem(reason, raw[:512].decode("utf-8", "replace") + " [...]")
            first = False
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8: byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
            yield LineProblem(reason, raw.decode("utf-8", "replace").strip())
        else:
            yield text.removeprefix(_BOM) if first else text
        first = False


def import_lines(
    store: GoldenStore,
    lines: Iterable[str | LineProblem],
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


# A prepared batch: its facts, their line numbers, its rejected lines, and how many non-blank
# lines it had.
_Prepared = tuple[list[Fact], list[int], list[RejectedLine], int]
_Line = tuple[int, str | LineProblem]


def _blank(item: _Line) -> bool:
    return isinstance(item[1], str) and not item[1].strip()


def _prepare(numbered: list[_Line], system: str) -> _Prepared:
    """Parse, validate and serialise one batch of (line number, text): plain values only, so it
    can run in a worker process and cross back cheaply."""
    facts: list[Fact] = []
    numbers: list[int] = []
    rejected: list[RejectedLine] = []
    count = 0
    for number, raw in numbered:
        if isinstance(raw, LineProblem):
            count += 1
            rejected.append(RejectedLine(number, raw.reason, raw.text))
            continue
        text = raw.strip()
        if not text:
            continue
        count += 1
        try:
            facts.append(Fact.of(parse_line(text, system)))
            numbers.append(number)
        except (ValueError, CanonicalValidationError) as exc:
            rejected.append(RejectedLine(number, str(exc), text))
    return facts, numbers, rejected, count


class _Repeats:
    """Facts already seen in this import, by (entity, ID, valid time), as small integers."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[int, int]] = {}  # key -> (line, content)

    def sift(self, facts: list[Fact], numbers: list[int], report: ImportReport) -> list[Fact]:
        """The facts to write: a repeat is reported; one with other content is rejected."""
        kept = []
        for fact, number in zip(facts, numbers, strict=True):
            valid = fact.valid_from_text or fact.valid_from.isoformat()
            key, content = hash((fact.entity_type, fact.record_id, valid)), hash(fact.digest)
            first = self.seen.setdefault(key, (number, content))
            if first[0] == number:
                kept.append(fact)
            elif first[1] == content:
                report.repeated.append((number, first[0]))
            else:
                reason = (
                    f"repeats {fact.entity_type} {fact.record_id} valid from {valid} of line"
                    f" {first[0]} with other content (line {first[0]} was kept)"
                )
                report.rejected.append(RejectedLine(number, reason, _line_of(fact)))
        return kept


def _line_of(fact: Fact) -> str:
    """A canonical line for a fact (what a rejected repeat is replayed from)."""
    line = {
        "entity_type": fact.entity_type,
        "valid_from": fact.valid_from_text or fact.valid_from.isoformat(),
        "payload": json.loads(fact.payload_json),
        "system": fact.system,
    }
    return json.dumps(line, sort_keys=True, ensure_ascii=False)


def _import_lines(
    store: GoldenStore,
    lines: Iterable[str | LineProblem],
    system: str,
    on_progress: Callable[[int], None] | None,
) -> ImportReport:
    report = ImportReport()
    repeats = _Repeats()
    numbered = enumerate(lines, start=1)
    # Look ahead far enough to know whether the import is large enough for the worker.
    head = list(itertools.islice(numbered, PIPELINE_MIN_LINES + 1))
    batches = _batches(itertools.chain(head, numbered))
    if len(head) > PIPELINE_MIN_LINES:
        prepared = _prepared_in_worker(batches, system)
    else:
        prepared = (_prepare(batch, system) for batch in batches)
    for prepared_facts, numbers, rejected, count in prepared:
        report.lines += count
        for r in rejected:  # in line order, reported as they come, as before
            report.rejected.append(r)
            if on_progress is not None:
                on_progress(1)
        facts = repeats.sift(prepared_facts, numbers, report)
        if on_progress is not None and len(facts) < len(prepared_facts):
            on_progress(len(prepared_facts) - len(facts))
        if facts:
            result = store.write_facts(facts, actor="import")
            report.created += result.created
            report.updated += result.updated
            report.unchanged += result.unchanged
            if on_progress is not None:
                on_progress(len(facts))
    return report


def _batches(numbered: Iterator[_Line]) -> Iterator[list[_Line]]:
    """Runs of lines holding BATCH_SIZE non-blank lines (the last may hold fewer)."""
    batch: list[_Line] = []
    filled = 0
    for item in numbered:
        batch.append(item)
        if not _blank(item):
            filled += 1
            if filled >= BATCH_SIZE:
                yield batch
                batch, filled = [], 0
    if batch:
        yield batch


def _prepared_in_worker(batches: Iterator[list[_Line]], system: str) -> Iterator[_Prepared]:
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
        pending: deque[tuple[list[_Line], Future[_Prepared] | None]] = deque()

        def submit(batch: list[_Line]) -> None:
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
    max_line_bytes: int = MAX_LINE_BYTES,
) -> ImportReport:
    """Import a JSONL file; rejected lines go to `rejects_path` (else ``FILE.rejected.jsonl``).
    The file is read as bytes, so one line that is not UTF-8 is one rejected line."""
    with path.open("rb") as handle:
        lines = read_lines(handle, max_line_bytes)
        report = import_lines(store, lines, system=system, on_progress=on_progress)
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
