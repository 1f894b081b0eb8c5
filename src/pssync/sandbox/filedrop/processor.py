"""The polling consumer that imports inbound batches, line by line, and answers in files.

For each ``inbound/*.csv`` (never ``*.tmp``: pssync writes a temporary name and renames it, so a
visible ``.csv`` is complete) the processor validates every line, books the good ones in the
ledger, writes ``reject/<batch>.reject.csv`` (line, external_id, field, reason) when some failed
and then ``ack/<batch>.ack.csv`` (line, external_id, erp_id), the file that tells pssync the
batch is done, and finally moves the batch to ``archive/``. Line numbers count the header as 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from pssync.sandbox.filedrop.layouts import DATE_ORDER, Layout, layout_for
from pssync.sandbox.filedrop.ledger import Ledger, to_csv, write_atomically

ACK_COLUMNS = ("line", "external_id", "erp_id")
REJECT_COLUMNS = ("line", "external_id", "field", "reason")


@dataclass
class BatchResult:
    batch: str
    acked: list[dict[str, str]] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Folders:
    root: Path

    @property
    def inbound(self) -> Path:
        return self.root / "inbound"

    @property
    def ack(self) -> Path:
        return self.root / "ack"

    @property
    def reject(self) -> Path:
        return self.root / "reject"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def outbound(self) -> Path:
        return self.root / "outbound"

    def create(self) -> None:
        for folder in (self.inbound, self.ack, self.reject, self.archive, self.outbound):
            folder.mkdir(parents=True, exist_ok=True)


def _line_errors(
    layout: Layout, row: dict[str, str], ledger: Ledger, batch_ids: dict[str, set[str]]
) -> list[tuple[str, str]]:
    errors = [(c, "required") for c in layout.required if not row.get(c)]
    for column, check in layout.checks.items():
        value = row.get(column) or ""
        reason = check(value) if value else None
        if reason:
            errors.append((column, reason))
    for column, kind in layout.references.items():
        ref = row.get(column)
        if ref and ledger.erp_id(kind, ref) is None and ref not in batch_ids.get(kind, set()):
            errors.append((column, f"unknown {kind[:-1]}"))
    order = DATE_ORDER.get(layout.kind)
    if order and not errors:
        first, second = order
        if dt.date.fromisoformat(row[second]) < dt.date.fromisoformat(row[first]):
            errors.append((second, f"before {first}"))
    return errors


def process_batch(path: Path, folders: Folders, ledger: Ledger) -> BatchResult:
    """Import one batch file and write its ack/reject files; the caller archives it."""
    result = BatchResult(batch=path.stem)
    layout = layout_for(path.name)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        lines = list(reader)
    if layout is None:
        result.rejected.append(
            {"line": "0", "external_id": "", "field": "", "reason": "unknown batch type"}
        )
        return result
    missing = [c for c in layout.required if c not in header]
    if missing:
        result.rejected += [
            {"line": "1", "external_id": "", "field": c, "reason": "missing column"}
            for c in missing
        ]
        return result
    seen: set[str] = set()
    for number, cells in enumerate(lines, start=2):
        if not any(c.strip() for c in cells):
            continue
        row = {name: value.strip() for name, value in zip(header, cells, strict=False)}
        external_id = row.get("external_id", "")
        errors = _line_errors(layout, row, ledger, {layout.kind: seen})
        if len(cells) != len(header):
            errors.insert(0, ("", f"expected {len(header)} columns, got {len(cells)}"))
        if external_id in seen:
            errors.append(("external_id", "duplicate in batch"))
        if errors:
            result.rejected += [
                {"line": str(number), "external_id": external_id, "field": f, "reason": r}
                for f, r in errors
            ]
            continue
        seen.add(external_id)
        values = {c: row.get(c, "") for c in layout.columns if c in row}
        erp_id = ledger.upsert(layout.kind, values)
        result.acked.append({"line": str(number), "external_id": external_id, "erp_id": erp_id})
    return result


def run_once(folders: Folders, ledger: Ledger) -> list[BatchResult]:
    """Process every complete batch in ``inbound/``, oldest first."""
    results = []
    batches = sorted(folders.inbound.glob("*.csv"), key=lambda p: (p.stat().st_mtime, p.name))
    for path in batches:
        result = process_batch(path, folders, ledger)
        reject_file = folders.reject / f"{result.batch}.reject.csv"
        if result.rejected:
            write_atomically(reject_file, to_csv(REJECT_COLUMNS, result.rejected))
        else:
            reject_file.unlink(missing_ok=True)  # left over from an earlier drop of this batch
        write_atomically(folders.ack / f"{result.batch}.ack.csv", to_csv(ACK_COLUMNS, result.acked))
        target = folders.archive / path.name
        if target.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            target = folders.archive / f"{path.stem}.{stamp}.csv"
        os.replace(path, target)
        results.append(result)
    return results
