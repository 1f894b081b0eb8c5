"""Portable insert-or-ignore and upsert for the engine tables (SQLite and PostgreSQL).

Two workers may record the same event or cursor at once; letting the database settle it with
ON CONFLICT keeps that race harmless without a lock service. The rows go straight to the
driver's executemany (`store.bulk`): a page records a thousand inbox rows, and SQLAlchemy's
per-row parameter handling cost more than the inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from pssync.store.bulk import bulk_insert, on_conflict_clause

_DIALECTS = ("postgresql", "sqlite")


def _check(conn: Connection) -> None:
    if conn.dialect.name not in _DIALECTS:
        raise ValueError(f"the engine supports SQLite and PostgreSQL, not {conn.dialect.name}")


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) whose keys are not there yet; leave existing rows
    alone."""
    _check(conn)
    bulk_insert(conn, table, rows, on_conflict=on_conflict_clause(conn.dialect, table))


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], update: Sequence[str]
) -> None:
    """Insert rows (dicts with the same keys), or overwrite the `update` columns of the row
    with the same primary key."""
    _check(conn)
    clause = on_conflict_clause(conn.dialect, table, update)
    bulk_insert(conn, table, rows, on_conflict=clause)
