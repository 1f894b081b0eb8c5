"""Writing a batch and reading the ERP's answer to it.

A batch is written as ``inbound/<kind>_<batch>.csv.tmp`` and renamed to ``.csv`` once complete,
because the ERP's import job picks up every ``*.csv`` it sees and must never read half a file.
The job answers with ``reject/<batch>.reject.csv`` (one row per problem: line, external_id,
field, reason) and then ``ack/<batch>.ack.csv`` (line, external_id, erp_id), which is the
signal that the batch is done. Line numbers count the header as line 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pssync.connectors.errors import RetriableError

SYSTEM = "filedrop"


@dataclass
class Answer:
    """The ERP's answer: erp_id per acked line, problems per rejected line."""

    acked: dict[int, str] = field(default_factory=dict)
    rejected: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def batch_name(kind: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{kind}_{stamp}_{secrets.token_hex(3)}"


def write_batch(
    inbound: Path, name: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> Path:
    """Write the batch under a temporary name, then rename it into view."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    final = inbound / f"{name}.csv"
    tmp = inbound / f"{name}.csv.tmp"
    tmp.write_text(out.getvalue(), encoding="utf-8", newline="")
    os.replace(tmp, final)
    return final


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def wait_for_answer(
    ack_dir: Path, reject_dir: Path, name: str, timeout: float, interval: float
) -> Answer:
    """Poll for the ack file; RetriableError when the ERP has not answered in time (the batch
    stays in the inbound folder and is still imported later; a retry resends the same records,
    which the ERP applies idempotently by external ID)."""
    ack = ack_dir / f"{name}.ack.csv"
    deadline = time.monotonic() + timeout
    while not ack.exists():
        if time.monotonic() >= deadline:
            raise RetriableError(
                f"no ack for batch {name} after {timeout:g}s; is the ERP's import job running?",
                system=SYSTEM,
                retry_after=interval,
            )
        time.sleep(interval)
    answer = Answer()
    for row in _read(ack):
        answer.acked[int(row["line"])] = row["erp_id"]
    reject = reject_dir / f"{name}.reject.csv"
    if reject.exists():
        for row in _read(reject):
            problem = (row.get("field") or "", row.get("reason") or "rejected")
            answer.rejected.setdefault(int(row["line"]), []).append(problem)
    return answer
