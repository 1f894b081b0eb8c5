"""The incremental-read cursor: the last ``updated_at`` second delivered and a fingerprint of
every record delivered at that second.

Kantata shows ``updated_at`` to the second and ``updated_after`` is strict, so the next read asks
for ``updated_after = second - 1s`` (the whole second again) and drops what the cursor already
holds; a record saved twice in that second has a new fingerprint and comes again. Lists come in
ID order, not stamp order, and the API offers no way to sort by stamp, so `changes` reads the
whole delta and hands it out in stamp order: a page's cursor then never runs ahead of a record
still to come.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pssync.connectors.errors import PermanentError
from pssync.connectors.kantata.transport import SYSTEM

VERSION = 1


def fingerprint(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def stamp_of(data: dict[str, Any]) -> dt.datetime | None:
    value = data.get("updated_at")
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0)


@dataclass
class StampCursor:
    """Mutable while one read advances it; encoded into each page's cursor string."""

    at: dt.datetime | None = None
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
                f"not a Kantata change cursor ({exc}): {text[:80]!r}", system=SYSTEM
            ) from None
        return cls(at if at.tzinfo else at.replace(tzinfo=dt.UTC), seen)

    def encode(self) -> str | None:
        if self.at is None:
            return None
        payload = {"v": VERSION, "at": self.at.isoformat(), "seen": self.seen}
        return json.dumps(payload, separators=(",", ":"), sort_keys=True)

    def updated_after(self) -> str | None:
        """The `updated_after` of the next read (None: everything)."""
        return None if self.at is None else (self.at - dt.timedelta(seconds=1)).isoformat()

    def admits(self, at: dt.datetime, record_id: str, mark: str) -> bool:
        if self.at is None or at > self.at:
            return True
        return at == self.at and self.seen.get(record_id) != mark

    def advance(self, at: dt.datetime, record_id: str, mark: str) -> None:
        if self.at is None or at > self.at:
            self.at, self.seen = at, {}
        self.seen[record_id] = mark
