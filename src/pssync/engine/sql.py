"""Portable insert-or-ignore and upsert for the engine tables (SQLite and PostgreSQL).

Two workers may record the same event or cursor at once; letting the database settle it with
ON CONFLICT keeps that race harmless without a lock service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"the engine supports SQLite and PostgreSQL, not {conn.dialect.name}")


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows whose primary key is not there yet; leave existing rows alone."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], update: Sequence[str]
) -> None:
    """Insert rows, or overwrite the `update` columns of the row with the same primary key."""
    if not rows:
        return
    stmt = _insert(conn, table)
    keys = [c.name for c in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={name: stmt.excluded[name] for name in update}
    )
    conn.execute(stmt, list(rows))
