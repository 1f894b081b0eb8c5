"""The golden records one system object links to, as a column frame: one streamed read.

Reconciling a million records page by page asks the xref map and the current versions a
million times over (a few thousand IN queries). Reading every xref of the object joined with
its merge and its current version in one query, with the compared fields read out of each
payload by the database's own JSON functions, moves about a hundred bytes a record instead of
the payload, and no Python object per record (the driver's tuples go straight to polars).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import JSON, ColumnElement, Engine, Select, and_, case, cast, select, type_coerce

from pssync.store.tables import record_merge, record_version, xref

# Rows fetched and turned into a frame at a time.
_BATCH = 100_000
# Up to this many IDs, their fields are read by the index, a chunk of IDs per statement; more
# are read in the one scan of the object's links and filtered.
_FEW = 50_000
_IN_CHUNK = 500
# True where the link is plain: one xref row for the ID, not merged away, a live version.
PLAIN = "__plain"


def linked_digests(engine: Engine, system: str, obj: str) -> pl.DataFrame:
    """external_id, entity_type, record_id, digest (the xref's compare digest: the current
    version's, or null) and `PLAIN` (the record is not merged away) for every xref of
    `system`'s `obj`: the xref rows alone, no payload read."""
    x, m = xref.c, record_merge.c
    stmt = select(x.external_id, x.entity_type, x.record_id, x.compare_digest).where(
        x.system == system, x.object == obj
    )
    schema = dict.fromkeys(["external_id", "entity_type", "record_id", "digest"], pl.String)
    frame = _frame(engine, stmt, schema)
    types = frame.get_column("entity_type").unique().to_list()
    with engine.connect() as conn:
        merged = conn.execute(
            select(m.entity_type, m.from_id).where(m.entity_type.in_(types))
        ).all()
    away = pl.DataFrame(
        merged, schema={"entity_type": pl.String, "record_id": pl.String}, orient="row"
    ).unique()
    return frame.join(
        away.with_columns(pl.lit(False).alias(PLAIN)), on=["entity_type", "record_id"], how="left"
    ).with_columns(pl.col(PLAIN).fill_null(True))


def linked_frame(
    engine: Engine,
    system: str,
    obj: str,
    fields: Sequence[str],
    external_ids: pl.Series | None = None,
) -> pl.DataFrame:
    """external_id, entity_type, record_id, `PLAIN` and each of `fields` (the current
    version's value as text; null when absent or JSON null) for every xref of `system`'s `obj`
    (only those of `external_ids`, if given).

    Only fields the canonical model types as strings should be asked: a number's text would
    look like a string. A non-plain link (merged, deleted, linked twice, no current version)
    carries null fields; callers compare those records with the golden store one by one."""
    x, m, v = xref.c, record_merge.c, record_version.c
    live = and_(v.payload.is_not(None), m.to_id.is_(None), v.deleted == 0)
    stmt = (
        select(
            x.external_id,
            x.entity_type,
            x.record_id,
            case((live, 1), else_=0),
            *(_json_text(engine, v.payload, name) for name in fields),
        )
        .select_from(xref)
        .outerjoin(record_merge, and_(m.entity_type == x.entity_type, m.from_id == x.record_id))
        .outerjoin(
            record_version,
            and_(
                v.entity_type == x.entity_type,
                v.record_id == x.record_id,
                v.recorded_to.is_(None),
                v.valid_to.is_(None),
            ),
        )
        .where(x.system == system, x.object == obj)
    )
    schema: dict[str, type[pl.DataType]] = dict.fromkeys(
        ["external_id", "entity_type", "record_id"], pl.String
    )
    schema |= {PLAIN: pl.Int8} | dict.fromkeys(fields, pl.String)
    if external_ids is None or len(external_ids) > _FEW:
        frame = _frame(engine, stmt, schema)
        if external_ids is not None:
            wanted = external_ids.cast(pl.String).unique().to_frame("external_id")
            frame = frame.join(wanted, on="external_id", how="semi")
    else:  # a few: by the unique index, a chunk of IDs at a time
        ids = external_ids.cast(pl.String).unique().drop_nulls().to_list()
        chunks = [ids[i : i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]
        parts = [_frame(engine, stmt.where(x.external_id.in_(c)), schema) for c in chunks]
        frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    plain = (pl.len().over("external_id") == 1) & (pl.col(PLAIN) == 1)
    return frame.with_columns(plain.alias(PLAIN))


def _frame(engine: Engine, stmt: Select[Any], schema: Mapping[str, Any]) -> pl.DataFrame:
    """The rows of `stmt` as a frame of `schema`, fetched in batches."""
    parts = []
    with engine.connect() as conn:
        # The driver's cursor: a million rows through SQLAlchemy's Row objects cost more
        # than the query (the statement is still SQLAlchemy's, for either dialect).
        sql = stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
        cursor = conn.connection.cursor()
        try:
            cursor.execute(str(sql))
            while rows := cursor.fetchmany(_BATCH):
                parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
        finally:
            cursor.close()
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _json_text(engine: Engine, payload: ColumnElement[str], name: str) -> ColumnElement[str]:
    """The payload's top-level `name` as text: SQLite's json_extract, PostgreSQL's ->>."""
    document = (
        cast(payload, JSON) if engine.dialect.name == "postgresql" else type_coerce(payload, JSON)
    )
    text: ColumnElement[str] = document[name].as_string()
    return text
