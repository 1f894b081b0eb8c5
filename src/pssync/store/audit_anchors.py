"""Audit anchors: the chain's newest (row, hash) exported out of the database.

The chain in `audit.py` shows rows edited or removed from the middle, and with a key the head
cannot be reset; but a whole database restored from an older copy (or an unkeyed chain cut
short and re-headed) is self-consistent. An anchor taken now — ``pssync audit anchor`` appends a
JSON line to a file the database's writers cannot change (another host, a WORM bucket, a ticket)
— pins the log up to its row: ``pssync audit verify --anchors FILE`` fails if any anchored row
is gone or differs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from pssync.store.history import utcnow
from pssync.store.tables import audit_head, audit_log


@dataclass(frozen=True)
class Anchor:
    seq: int
    row_hash: str
    at: str

    def line(self) -> str:
        return json.dumps({"seq": self.seq, "row_hash": self.row_hash, "at": self.at})


def take(engine: Engine) -> Anchor:
    """The newest audit row's number and hash, as of now."""
    with engine.connect() as conn:
        seq = conn.execute(select(audit_head.c.seq)).scalar() or 0
        row_hash = conn.execute(select(audit_log.c.row_hash).where(audit_log.c.seq == seq)).scalar()
    return Anchor(int(seq), str(row_hash or "0" * 64), utcnow().isoformat())


def parse(lines: Iterable[str]) -> list[Anchor]:
    """Anchors from JSON lines (blank lines skipped); ValueError names the bad line."""
    found = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            data: Any = json.loads(text)
            found.append(Anchor(int(data["seq"]), str(data["row_hash"]), str(data["at"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"anchor line {number} is not an anchor: {exc}") from None
    return found


def check(engine: Engine, anchors: list[Anchor]) -> tuple[str, int] | None:
    """The first anchor the log no longer matches, as (problem, row); None if all match."""
    wanted = {a.seq for a in anchors if a.seq > 0}
    with engine.connect() as conn:
        found = conn.execute(
            select(audit_log.c.seq, audit_log.c.row_hash).where(audit_log.c.seq.in_(wanted))
        )
        rows = {int(seq): str(row_hash) for seq, row_hash in found}
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq == 0:
            continue
        stored = rows.get(anchor.seq)
        if stored is None:
            return (
                f"audit row {anchor.seq}, anchored at {anchor.at}, is gone: the log was"
                " truncated or restored from an older copy",
                anchor.seq,
            )
        if stored != anchor.row_hash:
            return (
                f"audit row {anchor.seq} differs from its anchor of {anchor.at}: the log was"
                " rewritten",
                anchor.seq,
            )
    return None
