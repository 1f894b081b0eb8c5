"""A change cursor for systems whose modification stamps are whole seconds.

Many records share a second (an import, a mass update), so "after the last stamp" would miss a
record saved later in that second, and "the IDs seen at it" would miss one saved twice in it.
The cursor keeps the last second delivered plus a short fingerprint of each record delivered at
that second: a resumed read starts at that second again and drops exactly what it already gave.
Connectors subclass it with the query condition their API understands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pssync.connectors.errors import PermanentError

VERSION = 1


def fingerprint(data: dict[str, Any]) -> str:
    """A short digest telling a changed record from one already delivered at the same second."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class SecondStampCursor:
    """Mutable while one read advances it; encoded into each page's cursor string."""

    system: ClassVar[str] = ""
    label: ClassVar[str] = "change"

    at: dt.datetime | None = None  # whole seconds, UTC
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def decode(cls, text: str | None) -> Self:
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
                f"not a {cls.label} cursor ({exc}): {text[:80]!r}", system=cls.system
            ) from None
        return cls(at if at.tzinfo else at.replace(tzinfo=dt.UTC), seen)

    def encode(self) -> str | None:
        if self.at is None:
            return None
        payload = {"v": VERSION, "at": self.at.isoformat(), "seen": self.seen}
        return json.dumps(payload, separators=(",", ":"), sort_keys=True)

    def admits(self, at: dt.datetime, record_id: str, mark: str) -> bool:
        """Whether a record read at stamp `at` with fingerprint `mark` is new to this cursor."""
        if self.at is None or at > self.at:
            return True
        return at == self.at and self.seen.get(record_id) != mark

    def advance(self, at: dt.datetime, record_id: str, mark: str) -> None:
        """Note a record handed out (records come in stamp order)."""
        if self.at is None or at > self.at:
            self.at, self.seen = at, {}
        self.seen[record_id] = mark
