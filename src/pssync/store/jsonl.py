"""Canonical JSONL import and export: the bulk door for tests, sample data and backtests.

One line is one fact: ``{"entity_type": ..., "valid_from": ..., "payload": {...}}`` with optional
``system`` and ``source_record``. A bad line is reported with its number and reason, written to
a rejects file that can be fixed and imported again, and never stops the good lines.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pssync.model import CanonicalValidationError, parse_record
from pssync.store.history import Change, GoldenStore, json_loads

BATCH_SIZE = 5000


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


def _import_lines(
    store: GoldenStore,
    lines: Iterable[str],
    system: str,
    on_progress: Callable[[int], None] | None,
) -> ImportReport:
    report = ImportReport()
    batch: list[Change] = []

    def flush() -> None:
        result = store.write(batch, actor="import")
        report.created += result.created
        report.updated += result.updated
        report.unchanged += result.unchanged
        if on_progress is not None:
            on_progress(len(batch))
        batch.clear()

    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        report.lines += 1
        try:
            batch.append(parse_line(text, system))
        except (ValueError, CanonicalValidationError) as exc:
            report.rejected.append(RejectedLine(number, str(exc), text))
            if on_progress is not None:
                on_progress(1)
            continue
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return report


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
