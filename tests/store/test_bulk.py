"""Driver-level bulk helpers: rows land as SQLAlchemy Core would store them, lookups find keys."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pssync.store import GoldenStore
from pssync.store.bulk import bulk_insert, insert_rows, select_in
from pssync.store.tables import xref

T = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_insert_rows_converts_timestamps_like_core(store: GoldenStore) -> None:
    rows = [
        ("Account", f"acc-{i}", "salesforce", "Account", f"001{i}", T + dt.timedelta(seconds=i % 2))
        for i in range(5)
    ]
    columns = ("entity_type", "record_id", "system", "object", "external_id", "recorded_at")
    with store.engine.begin() as conn:
        insert_rows(conn, xref, columns, rows)
        conn.execute(
            sa.insert(xref),
            [
                {
                    "entity_type": "Account",
                    "record_id": "acc-core",
                    "system": "erp",
                    "object": "Account",
                    "external_id": "C1",
                    "recorded_at": T,
                }
            ],
        )
    with store.engine.connect() as conn:
        stored = {
            r.external_id: r.recorded_at
            for r in conn.execute(sa.select(xref.c.external_id, xref.c.recorded_at))
        }
    assert stored["0010"] == stored["C1"] == T
    assert stored["0011"] == T + dt.timedelta(seconds=1)
    assert stored["0010"].tzinfo is not None


def test_bulk_insert_takes_dicts(store: GoldenStore) -> None:
    row = {
        "entity_type": "Account",
        "record_id": "acc-1",
        "system": "crm",
        "object": "Account",
        "external_id": "A-1",
        "recorded_at": T,
    }
    with store.engine.begin() as conn:
        bulk_insert(conn, xref, [row])
    assert store.resolve_xref("crm", "Account", "A-1") == ("Account", "acc-1")


def test_select_in_matches_every_condition(store: GoldenStore) -> None:
    columns = ("entity_type", "record_id", "system", "object", "external_id", "recorded_at")
    rows = [
        ("Account", "acc-1", "crm", "Account", "X-1", T),
        ("Account", "acc-2", "crm", "Account", "X-2", T),
        ("Account", "acc-3", "erp", "Account", "X-1", T),  # same ID, other system
    ]
    with store.engine.begin() as conn:
        insert_rows(conn, xref, columns, rows)
    with store.engine.connect() as conn:
        wanted = ["X-1", "X-2", "X-9"]
        crm = select_in(conn, xref, "record_id", {"system": "crm"}, "external_id", wanted)
        erp = select_in(conn, xref, "record_id", {"system": "erp"}, "external_id", wanted)
        none = select_in(conn, xref, "record_id", {"system": "crm"}, "external_id", [])
    assert sorted(crm) == ["acc-1", "acc-2"]
    assert erp == ["acc-3"]
    assert none == []


def test_timestamps_are_stored_as_core_stores_them(store: GoldenStore) -> None:
    """`insert_rows` binds UTC timestamps its own way on SQLite; the stored text (or value, on
    PostgreSQL) must be exactly what SQLAlchemy Core writes for the same datetime."""
    moments = [
        T,
        T.replace(microsecond=0),
        dt.datetime(1, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
        dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-1))),
        dt.datetime(9999, 12, 31, 1, tzinfo=dt.timezone(dt.timedelta(hours=1, minutes=30))),
    ]
    columns = ("entity_type", "record_id", "system", "object", "external_id", "recorded_at")
    with store.engine.begin() as conn:
        insert_rows(
            conn,
            xref,
            columns,
            [("A", f"r{i}", "s", "o", f"fast{i}", m) for i, m in enumerate(moments)],
        )
        for i, m in enumerate(moments):
            values = dict(zip(columns, ("A", f"c{i}", "s", "o", f"core{i}", m), strict=True))
            conn.execute(sa.insert(xref).values(**values))
    with store.engine.connect() as conn:
        raw = dict(conn.exec_driver_sql("SELECT external_id, recorded_at FROM xref").fetchall())
    for i in range(len(moments)):
        assert raw[f"fast{i}"] == raw[f"core{i}"]
    with store.engine.begin() as conn, pytest.raises(ValueError, match="naive"):
        insert_rows(conn, xref, columns, [("A", "n", "s", "o", "naive", dt.datetime(2026, 1, 1))])
