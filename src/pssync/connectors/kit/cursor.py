"""The timestamp change cursor every polling connector can share.

A read asks for records modified at or after `since()` (the last stamp delivered, less an
optional overlap window) in (stamp, ID) order. Records sharing the boundary stamp (an import, a
mass update, stamps cut to the second) are the hard part: ``> stamp`` would miss one saved later
in that second, and a bare ID list would miss one saved twice in it. So the cursor keeps a short
fingerprint of every record it delivered at the boundary (and, with an overlap, of every record
inside the window) and drops exactly those when they come back; a record whose fingerprint
changed comes again. The overlap covers stamps that become visible late (a long transaction
stamped at its start), at the price of re-reading the window.

The JSON shape is the one `connectors.stamp_cursor.SecondStampCursor` (Kantata, NetSuite)
already stores, ``{"v": 1, "at": ..., "seen": {id: fingerprint}}``, plus ``"window"`` for the
overlap; Salesforce's ``{"v": 1, "stamp": ..., "ids": [...]}`` decodes too (its IDs match any
fingerprint), so those connectors can move onto this class without invalidating stored cursors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pssync.connectors.base import SourceRecord
from pssync.connectors.errors import PermanentError

VERSION = 1
ANY = "*"  # a fingerprint that matches every version (decoded from an ID-only cursor)


def fingerprint(data: dict[str, Any]) -> str:
    """A short digest telling a changed record from one already delivered at the same stamp."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def id_order(record_id: str) -> tuple[int, int | str]:
    """Numeric IDs in number order, others as text (the tiebreak inside one stamp)."""
    return (0, int(record_id)) if record_id.isdigit() else (1, record_id)


def _instant(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass
class StampCursor:
    """Mutable while one read advances it; `encode()` after each page gives that page's cursor.

    Subclasses set `system` and `label` (for errors) and, where the system needs it,
    `precision` (stamps are cut to it); `overlap` (how far before the boundary a read starts
    again) is a setting, given to `decode`."""

    system: ClassVar[str] = ""
    label: ClassVar[str] = "change"
    precision: ClassVar[dt.timedelta] = dt.timedelta(seconds=1)

    at: dt.datetime | None = None
    known: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)
    overlap: dt.timedelta = dt.timedelta(0)

    # ---- serialised form ----------------------------------------------------------------
    @classmethod
    def decode(cls, text: str | None, overlap: dt.timedelta = dt.timedelta(0)) -> Self:
        if text is None:
            return cls(overlap=overlap)
        try:
            data = json.loads(text)
            if data.get("v") != VERSION:
                raise ValueError(f"cursor version {data.get('v')!r}")
            at = _instant(data["at"] if "at" in data else data["stamp"])
            known = {str(k): (str(v), at) for k, v in data.get("seen", {}).items()}
            known |= {str(k): (ANY, at) for k in data.get("ids", ())}
            for key, (mark, stamp) in data.get("window", {}).items():
                known[str(key)] = (str(mark), _instant(stamp))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(
                f"not a {cls.label} cursor ({exc}): {text[:80]!r}", system=cls.system
            ) from None
        return cls(at, known, overlap)

    def encode(self) -> str | None:
        if self.at is None:
            return None
        at = self.at
        payload: dict[str, Any] = {
            "v": VERSION,
            "at": at.isoformat(),
            "seen": {k: m for k, (m, s) in self.known.items() if s == at},
        }
        window = {k: [m, s.isoformat()] for k, (m, s) in self.known.items() if s != at}
        if window:
            payload["window"] = window
        return json.dumps(payload, separators=(",", ":"), sort_keys=True)

    # ---- reading ------------------------------------------------------------------------
    def since(self) -> dt.datetime | None:
        """The lower bound (inclusive) of the next read; None: read everything."""
        return None if self.at is None else self.at - self.overlap

    def stamp(self, moment: dt.datetime) -> dt.datetime:
        """A stamp as this cursor compares it: UTC, cut to `precision`."""
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        moment = moment.astimezone(dt.UTC)
        step = self.precision.total_seconds()
        if step <= 0:
            return moment
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        ticks = (moment - epoch).total_seconds() // step
        return epoch + dt.timedelta(seconds=ticks * step)

    def admits(self, at: dt.datetime, record_id: str, mark: str) -> bool:
        """Whether a record read at stamp `at` with fingerprint `mark` is new to this cursor."""
        since = self.since()
        if since is not None and at < since:
            return False
        seen = self.known.get(record_id)
        return seen is None or (seen[0] not in (mark, ANY) or at > seen[1])

    def advance(self, at: dt.datetime, record_id: str, mark: str) -> None:
        """Note a record handed out (records come in stamp order); forget what fell out of
        the window."""
        if self.at is None or at > self.at:
            self.at = at
            floor = at - self.overlap
            self.known = {k: v for k, v in self.known.items() if v[1] >= floor and v[1] <= at}
        self.known[record_id] = (mark, at)

    def admit(
        self,
        records: Iterable[SourceRecord],
        mark: Callable[[dict[str, Any]], str] = fingerprint,
    ) -> list[SourceRecord]:
        """The records new to this cursor, in (stamp, ID) order, advancing it over them.
        Records without a stamp cannot be placed and are left out."""
        fresh = []
        stamped = [(self.stamp(r.modified_at), r) for r in records if r.modified_at is not None]
        for at, rec in sorted(stamped, key=lambda p: (p[0], id_order(p[1].id))):
            fingerprint_ = mark(rec.data)
            if self.admits(at, rec.id, fingerprint_):
                self.advance(at, rec.id, fingerprint_)
                fresh.append(rec)
        return fresh
