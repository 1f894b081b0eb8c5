"""The incremental-read cursor: a SystemModstamp and the IDs already read at exactly that stamp.

Why not just the last stamp: many records share one stamp (a bulk load, a cascade, one
transaction), and a page can end in the middle of them. ``> stamp`` on resume would miss the rest
of the group; ``>= stamp`` would repeat the part already read. So the next query asks for
``>= stamp`` and this cursor drops the records it already handed out. Since the SOQL literal is
cut to the second, records between that second and the stamp come back too and are dropped
likewise.

The cursor is a short JSON string the engine stores and passes back, even to a new connector
instance after a restart.
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

VERSION = 1


@dataclass(frozen=True)
class ModstampCursor:
    stamp: dt.datetime | None = None
    ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def decode(cls, text: str | None) -> ModstampCursor:
        if text is None:
            return cls()
        try:
            data: dict[str, Any] = json.loads(text)
            if data.get("v") != VERSION:
                raise ValueError(f"cursor version {data.get('v')!r}")
            return cls(to_datetime(data["stamp"]), frozenset(data.get("ids", ())))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(
                f"not a Salesforce change cursor ({exc}): {text[:80]!r}", system=SYSTEM
            ) from None

    def encode(self) -> str | None:
        if self.stamp is None:
            return None
        payload = {"v": VERSION, "stamp": self.stamp.isoformat(), "ids": sorted(self.ids)}
        return json.dumps(payload, separators=(",", ":"))

    def where(self, stamp_field: str) -> str | None:
        """The SOQL condition of the next read (None: read everything)."""
        if self.stamp is None:
            return None
        return f"{ident(stamp_field)} >= {datetime_literal(self.stamp)}"

    def admits(self, stamp: dt.datetime, record_id: str) -> bool:
        """Whether a record read back is new to this cursor."""
        if self.stamp is None or stamp > self.stamp:
            return True
        return stamp == self.stamp and record_id not in self.ids

    def advance(self, stamp: dt.datetime, record_id: str) -> ModstampCursor:
        """The cursor after handing out a record (records come in stamp order)."""
        if self.stamp is None or stamp > self.stamp:
            return ModstampCursor(stamp, frozenset({record_id}))
        if stamp == self.stamp:
            return ModstampCursor(stamp, self.ids | {record_id})
        return self
