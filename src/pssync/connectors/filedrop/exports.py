"""Reading the ERP's exports: ``outbound/<kind>_YYYYMMDD.csv``, each a full dump of one kind.

The ERP rewrites the day's file after every import and starts a new file each day, so the newest
file (by name) is the current state and older files are superseded. Rows carry the ERP's audit
stamps (``created_at``, ``updated_at``), which date each version (its valid time), but a rewritten
file gives no way to ask for rows changed since a stamp, so incremental reads compare rows with
fingerprints of what was delivered before: the
cursor holds the last file name processed, the row offset reached in it, and one short
fingerprint per ERP record. That costs about 25 bytes per record in the cursor, which is fine for
the few thousand records such ERPs exchange, and catches updates in place (an invoice turning
paid) that a file-plus-offset cursor alone would miss.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pssync.connectors.errors import PermanentError

if TYPE_CHECKING:
    import polars as pl

SYSTEM = "filedrop"


@dataclass
class Export:
    """One export file, read whole (they are small and rewritten atomically)."""

    path: Path
    rows: list[dict[str, str | None]]
    written_at: dt.datetime

    @property
    def version(self) -> str:
        """Changes whenever the ERP rewrites the file."""
        stat = self.path.stat()
        return f"{stat.st_mtime_ns}:{stat.st_size}"


def _newest(outbound: Path, kind: str) -> Path | None:
    files = sorted(p for p in outbound.glob(f"{kind}_*.csv") if p.stem[len(kind) + 1 :].isdigit())
    return files[-1] if files else None


def _written(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


def latest_export(outbound: Path, kind: str) -> Export | None:
    """The newest export of `kind`, or None before the ERP has written one."""
    path = _newest(outbound, kind)
    if path is None:
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            {k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)
        ]
    return Export(path, rows, _written(path))


def latest_export_frame(outbound: Path, kind: str) -> tuple[pl.DataFrame, dt.datetime] | None:
    """`latest_export` as a frame of string columns (null where the row is empty, as there),
    read by polars' CSV reader instead of one dict per row."""
    import polars as pl  # not imported by every command that loads the connector

    path = _newest(outbound, kind)
    if path is None:
        return None
    written = _written(path)
    frame = pl.read_csv(path, infer_schema=False)
    empty = [
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
    ]
    return frame.with_columns(empty), written


def journal_lines(
    rows: list[dict[str, str | None]], accounts: set[str], posting: str
) -> list[dict[str, str | None]]:
    """The journal's lines on `accounts`, each with ``reported_amount``: the amount as finance
    reports it, positive (revenue: credit minus debit; cost: debit minus credit)."""
    out = []
    for row in rows:
        if row.get("account") not in accounts:
            continue
        debit, credit = Decimal(row.get("debit") or 0), Decimal(row.get("credit") or 0)
        amount = credit - debit if posting == "revenue" else debit - credit
        out.append({**row, "reported_amount": str(amount)})
    return out


def business_date(value: str | None) -> dt.datetime | None:
    """A dated fact's day as its stamp (midnight UTC), None when the cell is not a date."""
    try:
        day = dt.date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def audit_stamp(value: str | None) -> dt.datetime | None:
    """The ERP's own change stamp of a row (``updated_at``, ISO 8601, UTC unless it names a
    zone), None when the export carries none."""
    try:
        moment = dt.datetime.fromisoformat(str(value or ""))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def fingerprint(row: dict[str, Any]) -> str:
    text = json.dumps(row, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class ExportCursor:
    """Where an incremental read of one kind stands."""

    file: str | None = None
    version: str | None = None
    row: int = 0
    seen: dict[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        return json.dumps(
            {"file": self.file, "version": self.version, "row": self.row, "seen": self.seen},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str | None) -> ExportCursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(
                file=data.get("file"),
                version=data.get("version"),
                row=int(data.get("row", 0)),
                seen={str(k): str(v) for k, v in data.get("seen", {}).items()},
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise PermanentError(
                f"not a filedrop change cursor: {text[:80]!r}", system=SYSTEM
            ) from exc

    def start_row(self, export: Export) -> int:
        """Resume inside the file only if it is the very file (and version) last read."""
        if self.file == export.path.name and self.version == export.version:
            return self.row
        return 0
