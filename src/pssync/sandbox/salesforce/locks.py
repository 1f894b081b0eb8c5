"""Row-lock contention on demand: the next writes fail with ``UNABLE_TO_LOCK_ROW``.

A real org answers this when another transaction (a user, a flow, a parent roll-up) holds the
record or its parent for longer than the ten-second lock wait; the SOAP API Developer Guide lists
the code under StatusCode ("unable to obtain exclusive access to this record"), and the record
locking guidance in "Record Locking Cheat Sheet" tells integrations to retry. Tests (and
``PUT /_emulator/locks``) arm it for a number of record saves, optionally of one object only; the
save fails like the real one, per record inside sObject Collections (``allOrNone: false``) and as
a 400 envelope on single-record calls.
"""

from __future__ import annotations

import threading

from pssync.sandbox.salesforce.errors import SalesforceError

CODE = "UNABLE_TO_LOCK_ROW"


class RowLocks:
    def __init__(self) -> None:
        self.remaining = 0
        self.object: str | None = None
        self._lock = threading.Lock()

    def arm(self, count: int, obj: str | None = None) -> None:
        """Fail the next `count` saves (of `obj`, or of any object)."""
        with self._lock:
            self.remaining = max(0, int(count))
            self.object = obj

    def check(self, obj: str, record_id: str) -> None:
        """Raise UNABLE_TO_LOCK_ROW if a save of `obj` is armed to fail."""
        with self._lock:
            if self.remaining <= 0 or (self.object is not None and self.object != obj):
                return
            self.remaining -= 1
        raise SalesforceError(
            400,
            CODE,
            f"unable to obtain exclusive access to this record or 1 records: {record_id}",
            [],
        )

    def state(self) -> dict[str, object]:
        return {"remaining": self.remaining, "object": self.object}
