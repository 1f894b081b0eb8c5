"""executemany straight to the driver, for the hot import path.

SQLAlchemy Core builds and processes parameters row by row in Python; on a 100,000-record import
that was the largest single cost after validation (see docs/decisions/0001). Here each column's
bind processor is looked up once, applied in a tight loop, and the rows go to the DBAPI cursor's
executemany in one call. Table and column names come from the SQLAlchemy table and are quoted by
the dialect, so this stays portable across SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

_PLACEHOLDER: dict[str, Callable[[str], str]] = {
    "qmark": lambda _c: "?",
    "format": lambda _c: "%s",
    "numeric": lambda _c: "?",
    "named": lambda c: f":{c}",
    "pyformat": lambda c: f"%({c})s",
}


def _memoised(proc: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """Cache a processor's results: a batch repeats the same timestamps (its own "now") a lot."""
    if proc is None:
        return None
    seen: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = result = proc(value)
            return result
        except TypeError:  # unhashable
            return proc(value)

    return run


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` with one executemany."""
    if not rows:
        return
    dialect = conn.dialect
    columns = list(rows[0])
    quote = dialect.identifier_preparer.quote
    style = dialect.paramstyle
    placeholders = ", ".join(_PLACEHOLDER[style](c) for c in columns)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)})"
        f" VALUES ({placeholders})"
    )
    processors = [
        _memoised(table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns
    ]
    plan = list(zip(columns, processors, strict=True))
    if style in ("named", "pyformat"):
        params: list[Any] = [{c: (p(row[c]) if p else row[c]) for c, p in plan} for row in rows]
    else:
        params = [tuple(p(row[c]) if p else row[c] for c, p in plan) for row in rows]
    conn.exec_driver_sql(sql, params)
