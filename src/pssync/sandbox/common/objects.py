"""SQLite-backed state for an emulator: objects by type and ID, modification stamps, deletes.

Every emulator keeps its records here so that state survives the request that made it, change
capture can ask "what changed since", and deletes stay visible to getDeleted-style APIs.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    object TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    deleted_at TEXT,
    PRIMARY KEY (object, id)
);
CREATE INDEX IF NOT EXISTS ix_objects_modified ON objects (object, modified_at, seq);
"""
_UPSERT = (
    "INSERT INTO objects (object, id, data, modified_at, seq, deleted_at)"
    " VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (object, id) DO UPDATE SET"
    " data = excluded.data, modified_at = excluded.modified_at, seq = excluded.seq,"
    " deleted_at = NULL"
)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


class ObjectStore:
    """Thread-safe store of JSON objects; one SQLite file (or memory) per emulator."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.executescript("PRAGMA journal_mode=WAL;" + _SCHEMA)
        self._lock = threading.RLock()
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM objects").fetchone()
        self._seq = int(row[0])

    def put(self, obj: str, record_id: str, data: dict[str, Any], modified_at: dt.datetime) -> None:
        with self._lock:
            self._seq += 1
            self._conn.execute(
                _UPSERT, (obj, record_id, json.dumps(data), iso(modified_at), self._seq)
            )

    def put_many(self, obj: str, rows: list[tuple[str, dict[str, Any], dt.datetime]]) -> None:
        """Seed or bulk-load many records in one transaction and one executemany."""
        stamps: dict[dt.datetime, str] = {}
        with self._lock:
            params = []
            for record_id, data, modified_at in rows:
                self._seq += 1
                stamp = stamps.get(modified_at) or stamps.setdefault(modified_at, iso(modified_at))
                params.append((obj, record_id, json.dumps(data), stamp, self._seq))
            self._conn.execute("BEGIN")
            self._conn.executemany(_UPSERT, params)
            self._conn.execute("COMMIT")

    def get(
        self, obj: str, record_id: str, *, include_deleted: bool = False
    ) -> dict[str, Any] | None:
        sql = "SELECT data, deleted_at FROM objects WHERE object = ? AND id = ?"
        with self._lock:
            row = self._conn.execute(sql, (obj, record_id)).fetchone()
        if row is None or (row[1] is not None and not include_deleted):
            return None
        data: dict[str, Any] = json.loads(row[0])
        return data

    def delete(self, obj: str, record_id: str, when: dt.datetime) -> bool:
        with self._lock:
            self._seq += 1
            cursor = self._conn.execute(
                "UPDATE objects SET deleted_at = ?, modified_at = ?, seq = ?"
                " WHERE object = ? AND id = ? AND deleted_at IS NULL",
                (iso(when), iso(when), self._seq, obj, record_id),
            )
            return cursor.rowcount == 1

    def all(self, obj: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        sql = "SELECT data FROM objects WHERE object = ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY seq", (obj,)).fetchall()
        for (data,) in rows:
            yield json.loads(data)

    def deleted_between(
        self, obj: str, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[str, str]]:
        """(id, deleted_at) of records deleted in [start, end)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, deleted_at FROM objects WHERE object = ? AND deleted_at >= ?"
                " AND deleted_at < ? ORDER BY deleted_at",
                (obj, iso(start), iso(end)),
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def count(self, obj: str) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM objects WHERE object = ? AND deleted_at IS NULL", (obj,)
            ).fetchone()
        return int(row[0])

    def objects(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT object FROM objects ORDER BY object"
            ).fetchall()
        return [str(r[0]) for r in rows]
