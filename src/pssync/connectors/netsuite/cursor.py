"""The incremental-read cursor: the last ``lastmodifieddate`` second read and a fingerprint of
every record read at that second.

NetSuite shows ``lastmodifieddate`` to the second, and many records share a second (a CSV import,
a mass update, one seeded firm). So a read resumes with ``>= second`` and drops the records whose
fingerprint the cursor already holds: ``>`` would miss a record saved later in that second, and a
bare ID list would miss a record saved twice in it (its fingerprint changes, so it comes again).

Within one `changes` call the pages follow a keyset on (second, internal ID) rather than
``offset``, so records written while the pages are read cannot shift a page boundary and make a
record vanish between two pages; anything saved meanwhile has a newer stamp and comes later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pssync.connectors.errors import PermanentError
from pssync.connectors.netsuite.auth import SYSTEM
from pssync.connectors.netsuite.objects import id_sort_key

VERSION = 1
SECOND = "YYYY-MM-DD HH24:MI:SS"
STAMP_COLUMN = "lastmodifieddate"
ORDER = f"TO_CHAR({STAMP_COLUMN}, '{SECOND}'), id"


def second_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def to_date(moment: dt.datetime) -> str:
    return f"TO_DATE('{second_text(moment)}', '{SECOND}')"


def fingerprint(data: dict[str, Any]) -> str:
    """A short digest telling a changed record from one already delivered at the same second."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def after_key(moment: dt.datetime, record_id: str) -> str:
    """Rows after (second, id) in `ORDER`: the keyset condition of the next page."""
    return (
        f"({STAMP_COLUMN} >= {to_date(moment + dt.timedelta(seconds=1))} OR "
        f"(TO_CHAR({STAMP_COLUMN}, '{SECOND}') = '{second_text(moment)}' "
        f"AND id > {id_sort_key(record_id)}))"
    )


@dataclass
class StampCursor:
    """Mutable while one read advances it; encoded into the page's cursor string."""

    at: dt.datetime | None = None  # whole seconds, UTC
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def decode(cls, text: str | None) -> StampCursor:
        if text is None:
            return cls()
        try:
            data = json.loads(text)
            if data.get("v") != VERSION:
                raise ValueError(f"cursor version {data.get('v')!r}")
            at = dt.datetime.fromisoformat(data["at"])
            seen = {str(k): str(v) for k, v in data.get("seen", {}).items()}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(
                f"not a NetSuite change cursor ({exc}): {text[:80]!r}", system=SYSTEM
            ) from None
        return cls(at if at.tzinfo else at.replace(tzinfo=dt.UTC), seen)

    def encode(self) -> str | None:
        if self.at is None:
            return None
        payload = {"v": VERSION, "at": self.at.isoformat(), "seen": self.seen}
        return json.dumps(payload, separators=(",", ":"), sort_keys=True)

    def where(self) -> str | None:
        """The SuiteQL condition a resumed read starts from (None: from the beginning)."""
        return None if self.at is None else f"{STAMP_COLUMN} >= {to_date(self.at)}"

    def admits(self, at: dt.datetime, record_id: str, mark: str) -> bool:
        if self.at is None or at > self.at:
            return True
        return at == self.at and self.seen.get(record_id) != mark

    def advance(self, at: dt.datetime, record_id: str, mark: str) -> None:
        """Note a record handed out (records come in stamp order)."""
        if self.at is None or at > self.at:
            self.at, self.seen = at, {}
        self.seen[record_id] = mark
