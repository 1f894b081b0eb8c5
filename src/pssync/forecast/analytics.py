"""The analytics store: an embedded DuckDB mirror of the golden store's bitemporal history.

The forecast never reads live APIs, and never reads the operational store row by row either:
`sync` copies the golden store's version rows into DuckDB incrementally (only rows recorded or
closed since the last high-water mark), and `materialize` projects them into one typed table
per entity type as of a date. Because the mirror keeps every version with both time axes, a
forecast as of any past date (valid *and* known at T) is a filter, not a reload, which is what
makes backtests over many as-of dates cheap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sqlalchemy import or_, select

from pssync.forecast.schema import (
    ENTITY_COLUMNS,
    FACT_TYPES,
    select_sql,
    table_name,
    typed_name,
)
from pssync.planning.periods import as_of_instant
from pssync.store import GoldenStore
from pssync.store.tables import record_version

_RAW_DDL = """
CREATE TABLE IF NOT EXISTS record_versions (
    version_id BIGINT PRIMARY KEY, entity_type VARCHAR, record_id VARCHAR,
    valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ, recorded_from TIMESTAMPTZ,
    recorded_to TIMESTAMPTZ, deleted BOOLEAN, content_hash VARCHAR, payload JSON);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""
_KEY = "entity_type || ':' || record_id || ':' || content_hash"
_KEYS_SQL = (
    "CREATE OR REPLACE TABLE version_keys AS SELECT valid_from, valid_to, recorded_from, "
    f"recorded_to, deleted, first_recorded, md5_number_upper({_KEY}) AS hu, "
    f"md5_number_lower({_KEY}) AS hl FROM record_versions "
    "JOIN record_first USING (entity_type, record_id)"
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Transactions can commit in a different order than their clocks read (several workers, one
# PostgreSQL): re-reading a window before the mark catches a late committer; upserts make the
# overlap free of side effects.
SYNC_OVERLAP = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class SyncReport:
    rows: int
    full: bool
    high_water_mark: dt.datetime


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _ts(value: dt.datetime) -> str:
    """A TIMESTAMPTZ literal for SQL text."""
    return f"TIMESTAMPTZ '{value.astimezone(dt.UTC).isoformat()}'"


def _json_text(payload: Any) -> str:
    """The golden store keeps payloads as JSON text (older schemas: decoded JSON)."""
    return payload if isinstance(payload, str) else json.dumps(payload)


def known_filter(alias: str = "", known_at: str = "$known_at") -> str:
    """SQL for "known at `known_at`" on a versions relation that has `first_recorded`.

    Valid time comes from the source (a change's own stamp, a history row's date), so a version
    valid by T was known to the source by T. What pssync had recorded by T is what it knew;
    a record pssync had not yet recorded at all by T (first synced later, its history
    backfilled from the source) reads as pssync's latest recording of it, which is what the
    source said then. The two cases never overlap (see docs/forecast.md, "Valid time")."""
    p = f"{alias}." if alias else ""
    return (
        f"(({p}recorded_from <= {known_at} "
        f"AND ({p}recorded_to IS NULL OR {p}recorded_to > {known_at})) "
        f"OR ({p}recorded_to IS NULL AND {p}first_recorded > {known_at}))"
    )


def as_of_filter(alias: str = "") -> str:
    """SQL for "valid at $valid_at and known at $known_at, not deleted" on a versions relation
    with `first_recorded` (the typed tables, `version_keys`, `known_versions`)."""
    p = f"{alias}." if alias else ""
    return (
        f"{p}valid_from <= $valid_at AND ({p}valid_to IS NULL OR {p}valid_to > $valid_at) "
        f"AND {known_filter(alias)} AND NOT {p}deleted"
    )


# Each record's first recording in pssync (what `known_filter` tells records apart by).
_FIRST_SQL = (
    "CREATE OR REPLACE TABLE record_first AS SELECT entity_type, record_id, "
    "min(recorded_from) AS first_recorded FROM record_versions GROUP BY ALL"
)
# The raw versions with their record's first recording, for reads without a typed table.
_KNOWN_VERSIONS = (
    "(SELECT v.*, f.first_recorded FROM record_versions v "
    "JOIN record_first f USING (entity_type, record_id))"
)


def _typed_sql(entity_type: str) -> str:
    """`select_sql` with each version's `first_recorded`."""
    return (
        f"SELECT t.*, f.first_recorded FROM ({select_sql(entity_type)}) t JOIN record_first f "
        f"ON f.entity_type = '{entity_type}' AND f.record_id = t.id"
    )


class AnalyticsStore:
    """One DuckDB database (a file, or in memory) holding the mirror and the forecast versions."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.con = duckdb.connect(self.path)
        self.con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws a progress bar on stdout for a query past two seconds (a loaded machine),
        # which would corrupt what a command prints there (`pssync kpis --json`).
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(_RAW_DDL)
        self._materialized: tuple[str, str, str] | None = None
        self._views = {
            r[0]
            for r in self.con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        self._tables = {
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT internal"
            ).fetchall()
        }

    def close(self) -> None:
        self.con.close()

    # ---- meta ----------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return str(rows[0][0]) if rows else None

    def _set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    @property
    def high_water_mark(self) -> dt.datetime:
        value = self._meta("high_water_mark")
        return _EPOCH if value is None else dt.datetime.fromisoformat(value)

    def mark_loaded(self, source: str, high_water_mark: dt.datetime) -> None:
        """Record a bulk load (see bulkload.py): its source and the last instant it holds.

        A later `sync` from a golden store sees a different source and reloads in full."""
        self._set_meta("source", source)
        self._set_meta("high_water_mark", high_water_mark.isoformat())
        self._invalidate()

    def _invalidate(self) -> None:
        """Drop the caches built from the versions (typed tables, as-of tables)."""
        self.con.execute("DELETE FROM meta WHERE key = 'typed_versions'")
        self._materialized = None

    # ---- sync ----------------------------------------------------------------------------

    def sync(self, store: GoldenStore) -> SyncReport:
        """Copy version rows recorded or closed since the high-water mark (all on first sync).

        Closing a version and inserting its successor happen in one golden-store transaction,
        so "recorded_from or recorded_to at/after the mark" catches every row that changed.
        Rows are upserted by version ID, so re-reading the boundary instant is harmless.
        """
        source = store.engine.url.render_as_string(hide_password=True)
        full = self._meta("source") != source
        if full:
            self.con.execute("DELETE FROM record_versions")
            self._set_meta("source", source)
        mark = _EPOCH if full else self.high_water_mark
        rv = record_version.c
        stmt = select(record_version)
        if not full:
            since = mark - SYNC_OVERLAP
            stmt = stmt.where(or_(rv.recorded_from >= since, rv.recorded_to >= since))
        with store.engine.connect() as conn:
            rows = list(conn.execute(stmt))
        if rows:
            self._upsert(rows)
            stamps = [r.recorded_from for r in rows] + [
                r.recorded_to for r in rows if r.recorded_to
            ]
            mark = max([mark, *stamps])
        self._set_meta("high_water_mark", mark.isoformat())
        if rows or full:
            self._invalidate()
        return SyncReport(rows=len(rows), full=full, high_water_mark=mark)

    def _upsert(self, rows: list[Any]) -> None:
        columns: dict[str, Any] = {
            "version_id": np.array([r.version_id for r in rows], dtype=np.int64),
            "entity_type": np.array([r.entity_type for r in rows], dtype=object),
            "record_id": np.array([r.record_id for r in rows], dtype=object),
            "deleted": np.array([bool(r.deleted) for r in rows], dtype=bool),
            "content_hash": np.array([r.content_hash for r in rows], dtype=object),
            "payload": np.array([_json_text(r.payload) for r in rows], dtype=object),
        }
        for name in ("valid_from", "valid_to", "recorded_from", "recorded_to"):
            columns[name] = np.array([_iso(getattr(r, name)) for r in rows], dtype=object)
        self.con.register("incoming", columns)
        try:
            self.con.execute(
                "DELETE FROM record_versions WHERE version_id IN (SELECT version_id FROM incoming)"
            )
            self.con.execute(
                "INSERT INTO record_versions SELECT version_id, entity_type, record_id, "
                "CAST(valid_from AS TIMESTAMPTZ), CAST(valid_to AS TIMESTAMPTZ), "
                "CAST(recorded_from AS TIMESTAMPTZ), CAST(recorded_to AS TIMESTAMPTZ), "
                "deleted, content_hash, CAST(payload AS JSON) FROM incoming"
            )
        finally:
            self.con.unregister("incoming")

    # ---- as-of tables --------------------------------------------------------------------

    def ensure_typed(self) -> None:
        """Typed projections of every version, built once per high-water mark.

        JSON extraction is the expensive part of an as-of table; doing it once for all
        versions turns every later `materialize` (a backtest runs one per as-of date) into a
        time filter. Fact types keep no payload: the forecast reads them only through SQL.
        """
        shape = hashlib.sha256(
            "".join([_FIRST_SQL, _KEYS_SQL, *map(_typed_sql, ENTITY_COLUMNS)]).encode()
        ).hexdigest()
        mark = f"{self.high_water_mark.isoformat()} {shape[:16]}"
        if self._meta("typed_versions") == mark:
            return
        self.con.execute(_FIRST_SQL)
        for entity_type in ENTITY_COLUMNS:
            self.con.execute(
                f"CREATE OR REPLACE TABLE {typed_name(entity_type)} AS {_typed_sql(entity_type)}"
            )
        self.con.execute(_KEYS_SQL)
        self._set_meta("typed_versions", mark)

    def materialize(self, as_of: dt.date, known_at: dt.datetime | None = None) -> bool:
        """(Re)build the typed per-entity tables as of `as_of`; False when already current."""
        valid_at = as_of_instant(as_of)
        known = known_at or valid_at
        key = (valid_at.isoformat(), known.isoformat(), self.high_water_mark.isoformat())
        if self._materialized == key:
            return False
        self.ensure_typed()
        params = {"valid_at": valid_at, "known_at": known}
        for entity_type in ENTITY_COLUMNS:
            name, typed = table_name(entity_type), typed_name(entity_type)
            if entity_type in FACT_TYPES:
                # Aggregated once or twice per run: a view (instants inlined, since views take
                # no parameters) saves copying ~350k time entries per as-of date.
                where = as_of_filter().replace("$valid_at", _ts(valid_at))
                self._drop(name)
                self._views.add(name)
                self.con.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM {typed} "
                    f"WHERE {where.replace('$known_at', _ts(known))}"
                )
            else:
                self._drop(name)
                self._tables.add(name)
                self.con.execute(
                    f"CREATE TABLE {name} AS SELECT * FROM {typed} WHERE {as_of_filter()}",
                    params,
                )
        self._materialized = key
        return True

    def _drop(self, name: str) -> None:
        """Drop the table or view `name` (a file written by an older version may hold
        either kind under an as-of name)."""
        if name in self._views:
            self.con.execute(f"DROP VIEW IF EXISTS {name}")
            self._views.discard(name)
        if name in self._tables:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
            self._tables.discard(name)

    def payloads(
        self, entity_type: str, where: str | None = None, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Payloads of the materialised table (or raw versions for types without a table),
        optionally filtered by an SQL condition on that table's columns."""
        return [json.loads(text) for text in self.payload_texts(entity_type, where, params)]

    def payload_texts(
        self, entity_type: str, where: str | None = None, params: dict[str, Any] | None = None
    ) -> list[str]:
        """`payloads` as JSON text, for callers that validate JSON directly (pydantic's JSON
        parser is several times faster than `json.loads` followed by `model_validate`)."""
        extra = f" AND ({where})" if where else ""
        if entity_type in ENTITY_COLUMNS:
            rows = self.con.execute(
                f"SELECT payload FROM {table_name(entity_type)} WHERE true{extra} ORDER BY id",
                params or {},
            ).fetchall()
        else:
            valid_at, known_at = self._materialized_instants()
            rows = self.con.execute(
                f"SELECT payload FROM {_KNOWN_VERSIONS} WHERE entity_type = $et AND "
                f"{as_of_filter()}"
                f"{extra} ORDER BY record_id",
                {**(params or {}), "et": entity_type, "valid_at": valid_at, "known_at": known_at},
            ).fetchall()
        return [_json_text(r[0]) for r in rows]

    def _materialized_instants(self) -> tuple[dt.datetime, dt.datetime]:
        if self._materialized is None:
            raise RuntimeError("call materialize(as_of) first")
        return (
            dt.datetime.fromisoformat(self._materialized[0]),
            dt.datetime.fromisoformat(self._materialized[1]),
        )

    def history(
        self, entity_type: str, known_at: dt.datetime, valid_until: dt.datetime | None = None
    ) -> list[tuple[Any, ...]]:
        """(record_id, valid_from, valid_to, payload) of every valid-time version known at T
        (`known_filter`) whose valid time began by T (or `valid_until`): the history a forecast
        may learn from."""
        self.ensure_typed()
        rows = self.con.execute(
            f"SELECT record_id, valid_from, valid_to, payload FROM {_KNOWN_VERSIONS} "
            f"WHERE entity_type = $et AND valid_from <= $v AND {known_filter('', '$t')} "
            "AND NOT deleted ORDER BY record_id, valid_from",
            {"et": entity_type, "t": known_at, "v": valid_until or known_at},
        ).fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def input_digest(self) -> str:
        """Digest of every version valid and known at the materialised instants (all types,
        reference data included): equal digests mean a forecast read exactly the same facts.

        Each version's (entity type, record ID, content hash) is hashed once per high-water
        mark into `version_keys` (MD5 as two 64-bit halves); a digest is the SHA-256 of the
        count and the sums of those halves over the versions in view. Sums are order-free, so
        no sort and no string building per run: concatenating ~400k keys cost ~1 s a run.
        """
        valid_at, known_at = self._materialized_instants()
        self.ensure_typed()
        rows = self.con.execute(
            "SELECT count(*), coalesce(sum(hu), 0), coalesce(sum(hl), 0) FROM version_keys "
            f"WHERE {as_of_filter()}",
            {"valid_at": valid_at, "known_at": known_at},
        ).fetchall()
        n, upper, lower = rows[0]
        return hashlib.sha256(f"{n}:{upper}:{lower}".encode()).hexdigest()
