"""executemany straight to the driver, for the hot import path.

SQLAlchemy Core builds and processes parameters row by row in Python; on a 100,000-record import
that was the largest single cost after validation (see docs/decisions/0001). Here rows arrive as
tuples in column order, only the columns whose type has a bind processor (the UTC timestamps) are
converted, column by column, and the rows go to the DBAPI cursor's executemany in one call. Table
and column names come from the SQLAlchemy table and are quoted by the dialect, so this stays
portable across SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Dialect

from pssync.store.tables import UtcDateTime

_PLACEHOLDER: dict[str, Callable[[str], str]] = {
    "qmark": lambda _c: "?",
    "format": lambda _c: "%s",
    "numeric": lambda _c: "?",
    "named": lambda c: f":{c}",
    "pyformat": lambda c: f"%({c})s",
}


def _convert(proc: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """`proc` over a column, once per distinct value: a batch repeats its timestamps (its own
    "now", NULLs) a lot, and the repeats then cost a dict lookup in C instead of a Python call."""
    try:
        done = {v: proc(v) for v in set(values)}
    except TypeError:  # unhashable values: convert each
        return [proc(v) for v in values]
    return list(map(done.__getitem__, values))


# SQLAlchemy's default SQLite text form of a datetime, which `_sqlite_utc_text` reproduces.
_SQLITE_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


def _sqlite_utc_text(value: dt.datetime | None) -> str | None:
    """`UtcDateTime`'s bind on SQLite in one step: the UTC wall time as SQLAlchemy's SQLite
    DATETIME writes it ("YYYY-MM-DD HH:MM:SS.ffffff"), so stored text is byte-identical. The
    generic path (TypeDecorator, then the dialect's %-format) cost ~3 µs per distinct value,
    and an import's `valid_from`s are mostly distinct."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} given to the golden store")
    # Python always writes the year with four digits; [:26] drops the "+00:00".
    return value.astimezone(dt.UTC).isoformat(" ", "microseconds")[:26]


def bind_processor(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processor for `dialect`, or a faster exact equivalent."""
    column_type = table.c[column].type
    if isinstance(column_type, UtcDateTime) and dialect.name == "sqlite":
        impl = column_type.impl_instance.dialect_impl(dialect)
        if isinstance(impl, SQLITE_DATETIME) and impl._storage_format == _SQLITE_FORMAT:
            return _sqlite_utc_text
    result: Callable[[Any], Any] | None = column_type.dialect_impl(dialect).bind_processor(dialect)
    return result


def insert_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    on_conflict: str = "",
) -> None:
    """Insert `rows` (tuples ordered like `columns`) into `table` with one executemany.

    `on_conflict` is appended as is: `on_conflict_clause` writes the portable ones."""
    if not rows:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    style = dialect.paramstyle
    placeholders = ", ".join(_PLACEHOLDER[style](c) for c in columns)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)})"
        f" VALUES ({placeholders}){on_conflict}"
    )
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for i, c in enumerate(columns):
        bind = bind_processor(table, c, dialect)
        if bind is not None:
            processors.append((i, bind))
    params: list[Any]
    if processors:
        by_column: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for i, proc in processors:
            by_column[i] = _convert(proc, by_column[i])
        params = list(zip(*by_column, strict=True))
    else:
        params = list(rows)
    if style in ("named", "pyformat"):
        params = [dict(zip(columns, row, strict=True)) for row in params]
    conn.exec_driver_sql(sql, params)


def bulk_insert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, on_conflict: str = ""
) -> None:
    """Insert `rows` (dicts with the same keys) into `table` with one executemany."""
    if not rows:
        return
    columns = list(rows[0])
    insert_rows(
        conn,
        table,
        columns,
        [tuple(row[c] for c in columns) for row in rows],
        on_conflict=on_conflict,
    )


def on_conflict_clause(dialect: Dialect, table: Table, update: Sequence[str] = ()) -> str:
    """`` ON CONFLICT DO NOTHING``, or with `update` columns an upsert on the primary key
    (``DO UPDATE SET c = excluded.c``): the same text for SQLite and PostgreSQL."""
    if not update:
        return " ON CONFLICT DO NOTHING"
    quote = dialect.identifier_preparer.quote
    keys = ", ".join(quote(c.name) for c in table.primary_key.columns)
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update)
    return f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"


def select_in(
    conn: Connection,
    table: Table,
    column: str | tuple[str, ...],
    equal: dict[str, Any],
    in_column: str,
    values: Sequence[Any],
    *,
    null: tuple[str, ...] = (),
) -> list[Any]:
    """``SELECT column FROM table WHERE k = v AND n IS NULL AND in_column IN values``, raw.

    A batch's key lookups ask thousands of values at once; SQLAlchemy renders and names each
    value of an expanding IN in Python, which cost more than the index probes themselves. The
    result is the driver's own value (a tuple per row when `column` names several), so only use
    it for columns that need no result processing (strings, integers).
    """
    if not values:
        return []
    dialect = conn.dialect
    columns = (column,) if isinstance(column, str) else column
    sql = _select_in_sql(dialect, table.name, columns, tuple(equal), in_column, len(values), null)
    args = [*equal.values(), *values]
    params: Any = (
        {f"p{i}": v for i, v in enumerate(args)}
        if dialect.paramstyle in ("named", "pyformat")
        else tuple(args)
    )
    rows = conn.exec_driver_sql(sql, params)
    if isinstance(column, str):
        return [row[0] for row in rows]
    return [tuple(row) for row in rows]


@functools.lru_cache(maxsize=64)
def _select_in_sql(
    dialect: Dialect,
    table: str,
    columns: tuple[str, ...],
    equal: tuple[str, ...],
    in_column: str,
    count: int,
    null: tuple[str, ...],
) -> str:
    quote = dialect.identifier_preparer.quote
    marks = [_PLACEHOLDER[dialect.paramstyle](f"p{i}") for i in range(len(equal) + count)]
    conditions = [f"{quote(c)} = {m}" for c, m in zip(equal, marks, strict=False)]
    conditions += [f"{quote(c)} IS NULL" for c in null]
    conditions.append(f"{quote(in_column)} IN ({', '.join(marks[len(equal) :])})")
    selected = ", ".join(quote(c) for c in columns)
    return f"SELECT {selected} FROM {quote(table)} WHERE {' AND '.join(conditions)}"
