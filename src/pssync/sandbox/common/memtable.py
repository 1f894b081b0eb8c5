"""An in-memory index over the ObjectStore, so list and query endpoints stay linear at scale.

`ObjectStore.all()` decodes every JSON row on each call; a client paging 50,000 records 1,000 at
a time would make that quadratic. This table keeps the live records of each type in a dict (in
creation order, which is also the stable paging order) and writes through to the store, so state
still survives a restart. Derived results (a filtered, sorted SuiteQL result; a Kantata filter)
are memoised per *generation*: any write bumps the generation, so page 2 of a query reuses the
work done for page 1 unless something changed in between.

The PSA and ITSM emulators reuse this module; it is a candidate for `sandbox/common`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from pssync.sandbox.common import business_clock
from pssync.sandbox.common.objects import ObjectStore

Record = dict[str, Any]
T = TypeVar("T")

_MEMO_SIZE = 32


def utcnow() -> dt.datetime:
    """The sandbox's server clock (`business_clock`): a write is stamped in the firm's time."""
    return business_clock.now()


class MemTable:
    """Records by object type and ID, mirrored to an ObjectStore; thread-safe."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._types: dict[str, dict[str, Record]] = {}
        self._lock = threading.RLock()
        self._memo: OrderedDict[tuple[Any, ...], tuple[int, Any]] = OrderedDict()
        self.generation = 0

    def _type(self, obj: str) -> dict[str, Record]:
        rows = self._types.get(obj)
        if rows is None:
            # First touch of a type: pick up whatever an earlier run left in the store.
            rows = {str(r["id"]): r for r in self._store.all(obj) if "id" in r}
            self._types[obj] = rows
        return rows

    def known_types(self) -> list[str]:
        with self._lock:
            return sorted(set(self._types) | set(self._store.objects()))

    def get(self, obj: str, record_id: str) -> Record | None:
        with self._lock:
            return self._type(obj).get(record_id)

    def values(self, obj: str) -> list[Record]:
        """The live records of a type in creation order (a snapshot list)."""
        with self._lock:
            return list(self._type(obj).values())

    def count(self, obj: str) -> int:
        with self._lock:
            return len(self._type(obj))

    def put(self, obj: str, record: Record, modified: dt.datetime | None = None) -> None:
        with self._lock:
            self._store.put(obj, str(record["id"]), record, modified or utcnow())
            self._type(obj)[str(record["id"])] = record
            self.generation += 1

    def put_many(
        self, obj: str, records: list[Record], modified: dt.datetime | None = None
    ) -> None:
        when = modified or utcnow()
        with self._lock:
            self._store.put_many(obj, [(str(r["id"]), r, when) for r in records])
            rows = self._type(obj)
            for record in records:
                rows[str(record["id"])] = record
            self.generation += 1

    def delete(self, obj: str, record_id: str) -> bool:
        with self._lock:
            removed = self._type(obj).pop(record_id, None)
            if removed is None:
                return False
            self._store.delete(obj, record_id, utcnow())
            self.generation += 1
            return True

    def memo(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """`build()` once per generation for `key`; later pages of one query reuse it."""
        with self._lock:
            hit = self._memo.get(key)
            if hit is not None and hit[0] == self.generation:
                self._memo.move_to_end(key)
                value: T = hit[1]
                return value
            generation = self.generation
        value = build()
        with self._lock:
            self._memo[key] = (generation, value)
            self._memo.move_to_end(key)
            while len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        return value
