"""Hand-made canonical fixtures written through the golden store with a controllable clock.

Recorded time defaults to the valid time, as if pssync captured every fact the moment it
became true; tests that need late knowledge pass `recorded_at` explicitly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from pssync.model import CanonicalRecord, Money
from pssync.store import Change, GoldenStore, open_engine


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


def usd(amount: str | int) -> Money:
    return Money(amount=Decimal(str(amount)), currency="USD")


class FirmWriter:
    def __init__(self, path: Path) -> None:
        self.store = GoldenStore(open_engine(f"sqlite:///{path}"))
        self._now = at("2026-01-01")
        self.store.clock = lambda: self._now

    def put(
        self,
        records: CanonicalRecord | Iterable[CanonicalRecord],
        valid_from: dt.datetime,
        recorded_at: dt.datetime | None = None,
    ) -> None:
        batch = [records] if isinstance(records, CanonicalRecord) else list(records)
        self._now = recorded_at or valid_from
        self.store.write([Change(r, valid_from, "test") for r in batch])
