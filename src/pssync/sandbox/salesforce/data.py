"""Committed records in memory over the SQLite ObjectStore, and transactions layered on top.

Why a cache: SOQL runs over every row of an object, and re-reading tens of thousands of JSON
rows from SQLite per query would dominate. The store stays the source of truth (persistence,
modification stamps, delete times for getDeleted); this module keeps a parsed copy and writes
through on commit.

Why transactions: allOrNone collections and composite requests must leave no trace when one
part fails. Each request works in a `Txn` overlay; nested overlays give per-record savepoints;
only `commit()` on the outermost one touches the store. Committed record dicts are never
mutated in place, so query cursors can keep references to them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pssync.sandbox.common.objects import ObjectStore
from pssync.sandbox.salesforce.timefmt import parse_datetime

Record = dict[str, Any]
# Which fields of an object to index for lookups by value (external IDs, parent references).
IndexedFields = Callable[[str], Iterable[str]]


def index_key(value: object) -> str | None:
    """External IDs match case-insensitively, as on the platform."""
    return None if value is None else str(value).casefold()


class Base:
    """The committed state: one dict of records per object (deleted ones flagged IsDeleted)."""

    def __init__(self, store: ObjectStore, indexed: IndexedFields) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._indexed = indexed
        self._tables: dict[str, dict[str, Record]] = {}
        self._indexes: dict[str, dict[str, dict[str, set[str]]]] = {}

    def table(self, obj: str) -> dict[str, Record]:
        table = self._tables.get(obj)
        if table is None:
            live = {r["Id"] for r in self.store.all(obj)}
            table = {}
            for record in self.store.all(obj, include_deleted=True):
                if record["Id"] not in live:
                    record["IsDeleted"] = True
                table[record["Id"]] = record
            self._tables[obj] = table
        return table

    def get(self, obj: str, record_id: str) -> Record | None:
        return self.table(obj).get(record_id)

    def rows(self, obj: str) -> Iterable[Record]:
        return self.table(obj).values()

    def _index(self, obj: str) -> dict[str, dict[str, set[str]]]:
        index = self._indexes.get(obj)
        if index is None:
            index = {name: {} for name in self._indexed(obj)}
            for record in self.table(obj).values():
                self._index_add(index, record)
            self._indexes[obj] = index
        return index

    @staticmethod
    def _index_add(index: dict[str, dict[str, set[str]]], record: Record) -> None:
        if record.get("IsDeleted"):
            return
        for name, by_value in index.items():
            key = index_key(record.get(name))
            if key is not None:
                by_value.setdefault(key, set()).add(record["Id"])

    @staticmethod
    def _index_remove(index: dict[str, dict[str, set[str]]], record: Record) -> None:
        for name, by_value in index.items():
            key = index_key(record.get(name))
            if key is not None and key in by_value:
                by_value[key].discard(record["Id"])

    def find(self, obj: str, field: str, value: object) -> set[str]:
        key = index_key(value)
        by_value = self._index(obj).get(field)
        if key is None or by_value is None:
            return set()
        return set(by_value.get(key, ()))

    def load(self, obj: str, records: list[Record]) -> None:
        """Bulk-insert seeded records: one SQLite transaction, no per-row JSON re-parse."""
        rows = [(r["Id"], r, parse_datetime(r["SystemModstamp"])) for r in records]
        self.store.put_many(obj, rows)
        self._apply_cache(obj, records)

    def apply(self, pending: dict[str, dict[str, Record]]) -> None:
        for obj, changed in pending.items():
            live = [r for r in changed.values() if not r.get("IsDeleted")]
            if live:
                self.store.put_many(
                    obj, [(r["Id"], r, parse_datetime(r["SystemModstamp"])) for r in live]
                )
            for record in changed.values():
                if record.get("IsDeleted"):
                    if record["Id"] not in self.table(obj):
                        stamp = parse_datetime(record["SystemModstamp"])
                        self.store.put(obj, record["Id"], record, stamp)
                    self.store.delete(obj, record["Id"], parse_datetime(record["SystemModstamp"]))
            self._apply_cache(obj, list(changed.values()))

    def _apply_cache(self, obj: str, records: list[Record]) -> None:
        table = self.table(obj)
        index = self._indexes.get(obj)
        for record in records:
            old = table.get(record["Id"])
            if index is not None:
                if old is not None:
                    self._index_remove(index, old)
                self._index_add(index, record)
            table[record["Id"]] = record


class Txn:
    """Uncommitted changes over a parent (the Base or an enclosing Txn)."""

    def __init__(self, parent: Base | Txn) -> None:
        self.parent = parent
        self.pending: dict[str, dict[str, Record]] = {}

    def get(self, obj: str, record_id: str) -> Record | None:
        mine = self.pending.get(obj)
        if mine is not None and record_id in mine:
            return mine[record_id]
        return self.parent.get(obj, record_id)

    def put(self, obj: str, record: Record) -> None:
        self.pending.setdefault(obj, {})[record["Id"]] = record

    def rows(self, obj: str) -> Iterable[Record]:
        mine = self.pending.get(obj)
        if not mine:
            return self.parent.rows(obj)
        return self._merged(obj, mine)

    def _merged(self, obj: str, mine: dict[str, Record]) -> Iterator[Record]:
        seen: set[str] = set()
        for record in self.parent.rows(obj):
            seen.add(record["Id"])
            yield mine.get(record["Id"], record)
        for record_id, record in mine.items():
            if record_id not in seen:
                yield record

    def find(self, obj: str, field: str, value: object) -> set[str]:
        """Live IDs whose indexed `field` equals `value` (case-insensitively)."""
        found = self.parent.find(obj, field, value)
        key = index_key(value)
        for record_id, record in self.pending.get(obj, {}).items():
            found.discard(record_id)
            if not record.get("IsDeleted") and index_key(record.get(field)) == key:
                found.add(record_id)
        return found

    def child(self) -> Txn:
        return Txn(self)

    def commit(self) -> None:
        if isinstance(self.parent, Txn):
            for obj, changed in self.pending.items():
                self.parent.pending.setdefault(obj, {}).update(changed)
        else:
            self.parent.apply(self.pending)
        self.pending = {}
