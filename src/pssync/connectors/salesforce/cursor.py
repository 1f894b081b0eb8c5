"""The incremental-read cursor: a SystemModstamp high-water mark, read back with an overlap.

Why an overlap: SystemModstamp is set when a transaction saves a record, but the record is only
visible once the transaction commits, so a long transaction can commit a record stamped *before*
a read that already moved past that stamp (the replication guidance of the SOAP API Developer
Guide, getUpdated()/getDeleted() "latestDateCovered", says the same about changes that started
but did not complete). Each read therefore asks for ``SystemModstamp >= high - overlap`` and the
cursor remembers which (record, stamp) pairs of that overlap it already handed out, so a late
commit comes through once and nothing else comes twice. Past the memory's bound (a bulk load
sharing one stamp) an old pair may come again; the engine's inbox drops it by its event key.

Records sharing one stamp (a bulk load, a cascade, one transaction) may straddle a page: the
same remembered pairs keep the resume exact.

The cursor is a short JSON string the engine stores and passes back, even to a new connector
instance after a restart. Version 1 cursors (the stamp and the IDs read at it) still decode.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from pssync.connectors.errors import PermanentError
from pssync.connectors.salesforce.soql import datetime_literal, ident
from pssync.connectors.salesforce.transport import SYSTEM
from pssync.mapping.convert import to_datetime

VERSION = 2
MAX_SEEN = 5000  # remembered pairs at most; the newest are kept


@dataclass
class ModstampCursor:
    """Mutable while a read hands records out (`take`); `encode` after each page."""

    stamp: dt.datetime | None = None
    seen: dict[str, dt.datetime] = field(default_factory=dict)  # record id -> its stamp
    overlap: dt.timedelta = dt.timedelta(0)

    @classmethod
    def decode(cls, text: str | None, overlap: dt.timedelta = dt.timedelta(0)) -> ModstampCursor:
        if text is None:
            return cls(overlap=overlap)
        try:
            data: dict[str, Any] = json.loads(text)
            stamp = to_datetime(data["stamp"])
            if data.get("v") == 1:
                seen = {str(i): stamp for i in data.get("ids", ())}
            elif data.get("v") == VERSION:
                seen = {str(k): to_datetime(v) for k, v in dict(data.get("seen", {})).items()}
            else:
                raise ValueError(f"cursor version {data.get('v')!r}")
            return cls(stamp, seen, overlap)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(
                f"not a Salesforce change cursor ({exc}): {text[:80]!r}", system=SYSTEM
            ) from None

    def encode(self) -> str | None:
        if self.stamp is None:
            return None
        self._prune()
        seen = {k: v.isoformat() for k, v in self.seen.items()}
        payload = {"v": VERSION, "stamp": self.stamp.isoformat(), "seen": seen}
        return json.dumps(payload, separators=(",", ":"), sort_keys=True)

    @property
    def low(self) -> dt.datetime | None:
        """The oldest stamp the next read asks for (the high-water mark minus the overlap)."""
        return None if self.stamp is None else self.stamp - self.overlap

    def where(self, stamp_field: str) -> str | None:
        """The SOQL condition of the next read (None: read everything)."""
        low = self.low
        return None if low is None else f"{ident(stamp_field)} >= {datetime_literal(low)}"

    def admits(self, stamp: dt.datetime, record_id: str) -> bool:
        """Whether a record read back is new to this cursor: past the mark, or inside the
        overlap and not handed out at this stamp yet (a late commit)."""
        low = self.low
        if self.stamp is None or low is None or stamp > self.stamp:
            return True
        return stamp >= low and self.seen.get(record_id) != stamp

    def take(self, stamp: dt.datetime, record_id: str) -> None:
        """Remember a record handed out."""
        if self.stamp is None or stamp > self.stamp:
            self.stamp = stamp
        self.seen[record_id] = stamp
        if len(self.seen) > 4 * MAX_SEEN:
            self._prune()

    def _prune(self) -> None:
        """Forget pairs older than the overlap; keep the newest MAX_SEEN."""
        low = self.low
        if low is None:
            return
        kept = {k: v for k, v in self.seen.items() if v >= low}
        if len(kept) > MAX_SEEN:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1])[-MAX_SEEN:])
        self.seen = kept
