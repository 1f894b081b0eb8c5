"""Import 100,000 canonical records vs a raw `executemany` of the same rows, same SQLite file.

The floor is the cheapest way to put the same rows in this database: after pssync's import, the
rows it stored (record versions, xrefs, audit entries) are read back and inserted again with one
sqlite3 executemany per table into tables of the same schema (keys, constraints and indexes) in
the same file — no parsing, validation,
history lookup, diffing or hashing — on a connection from the same engine setup, so with the same
PRAGMAs. The ratio is what all of that costs. Goal: >= 30% of the floor.

    python bench/bench_import.py [--records N] [--repeat R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from pssync.store import GoldenStore, make_engine, open_engine
from pssync.store.audit import verify_chain
from pssync.store.jsonl import import_lines

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def make_lines(n: int) -> list[str]:
    """A realistic mix: mostly time entries, some opportunities and accounts."""
    lines = []
    for i in range(n):
        valid_from = (T0 + dt.timedelta(minutes=i)).isoformat()
        kind = i % 10
        if kind < 7:
            entity, payload = (
                "TimeEntry",
                {
                    "id": f"te-{i}",
                    "project_id": f"prj-{i % 600}",
                    "resource_id": f"res-{i % 400}",
                    "role_id": f"role-{i % 12}",
                    "work_date": str(T0.date() + dt.timedelta(days=i % 700)),
                    "hours": "7.50",
                    "billable": True,
                    "bill_rate": {"amount": "185.00", "currency": "USD"},
                    "cost_rate": {"amount": "92.50", "currency": "USD"},
                    "xrefs": {"kantata:time_entry": str(900000 + i)},
                },
            )
        elif kind < 9:
            entity, payload = (
                "Opportunity",
                {
                    "id": f"opp-{i}",
                    "account_id": f"acc-{i % 1500}",
                    "name": f"Deal {i}",
                    "stage": "Proposal/Price Quote",
                    "probability": "50",
                    "amount": {"amount": f"{10000 + i}.25", "currency": "USD"},
                    "close_date": "2026-06-30",
                    "service_line_id": f"sl-{i % 6}",
                    "xrefs": {"salesforce:Opportunity": f"006{i:015d}"},
                },
            )
        else:
            entity, payload = (
                "Account",
                {
                    "id": f"acc-x{i}",
                    "name": f"Customer {i} GmbH",
                    "domain": f"c{i}.example",
                    "tax_id": f"DE{i:09d}",
                    "xrefs": {"salesforce:Account": f"001{i:015d}"},
                },
            )
        lines.append(
            json.dumps({"entity_type": entity, "valid_from": valid_from, "payload": payload})
        )
    return lines


TABLES = ("record_version", "xref", "audit_log")


def same_schema(conn: sqlite3.Connection, table: str) -> list[str]:
    """The DDL of `table` and its indexes, for a `floor_` copy: the same rows go into the same
    shape of table, keys, unique constraints and indexes included, because maintaining them is
    the database's cost of storing those rows, not pssync's."""
    found = conn.execute(
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type = 'index'",
        (table,),
    ).fetchall()
    pattern = re.compile(rf"(?<![\w]){re.escape(table)}(?![\w])")
    out = []
    for kind, sql in found:
        sql = pattern.sub(f"floor_{table}", sql.replace(f'"{table}"', f"floor_{table}"))
        if kind == "index":
            sql = re.sub(r"INDEX (\w+)", r"INDEX floor_\1", sql, count=1)
        out.append(sql)
    return out


def raw_floor(db: Path) -> float:
    """executemany of exactly the rows pssync stored, into same-schema tables of the same file.

    The connection comes from the engine pssync itself opens, so it runs with the same PRAGMAs.
    """
    engine = make_engine(f"sqlite:///{db}")
    pooled = engine.raw_connection()
    conn = pooled.driver_connection
    assert isinstance(conn, sqlite3.Connection)
    rows = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
    for t in TABLES:
        for statement in same_schema(conn, t):
            conn.execute(statement)
    start = time.perf_counter()
    with conn:
        for t in TABLES:
            marks = ", ".join("?" * len(rows[t][0]))
            conn.executemany(f"INSERT INTO floor_{t} VALUES ({marks})", rows[t])
    elapsed = time.perf_counter() - start
    pooled.close()
    engine.dispose()
    return elapsed


def pssync_import(db: Path, lines: list[str]) -> float:
    store = GoldenStore(open_engine(f"sqlite:///{db}"))
    start = time.perf_counter()
    report = import_lines(store, lines)
    elapsed = time.perf_counter() - start
    assert report.created == len(lines) and not report.rejected, report.as_dict()
    chain = verify_chain(store.engine)  # outside the timing: the import must leave it intact
    assert chain.ok and chain.rows_checked == len(lines), chain
    store.engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines = make_lines(args.records)
    floors, ours = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            ours.append(pssync_import(db, lines))
            floors.append(raw_floor(db))
    floor_rate = args.records / statistics.median(floors)
    our_rate = args.records / statistics.median(ours)
    print(
        json.dumps(
            {
                "records": args.records,
                "floor_records_per_s": round(floor_rate),
                "pssync_records_per_s": round(our_rate),
                "ratio": round(our_rate / floor_rate, 3),
                "floor_runs_s": [round(x, 3) for x in floors],
                "pssync_runs_s": [round(x, 3) for x in ours],
            }
        )
    )


if __name__ == "__main__":
    main()
