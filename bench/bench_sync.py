"""Bulk initial sync through the engine vs a floor of the same pages with no governance.

Calls per record written: HTTP requests the source served, and SQL statements on the golden
store, per record the engine applied.

The firm's Kantata (PSA) view — workspaces, stories, allocations and ~10k time entries — is
synced from its emulator into a fresh golden store by the engine (DBOS page workflows, inbox,
translation, validation, system-of-record gate, bitemporal write, audit). The floor reads the
same pages through the same connector and inserts each record's raw JSON with one
`executemany` per page into a SQLite table: fetching and parsing, nothing else.

    python bench/bench_sync.py [--repeat R] [--objects workspaces,time_entries,...]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from pssync.config.settings import Settings
from pssync.demo.config import mapping_file
from pssync.engine.capture import Poller
from pssync.engine.dbos_app import shutdown
from pssync.engine.setup import runtime_from_settings
from pssync.engine.worker import start, wait_idle
from pssync.sandbox.up import Sandbox

OBJECTS = ["workspaces", "stories", "workspace_allocations", "time_entries"]


def settings(info: dict[str, Any], db: Path) -> Settings:
    kantata = {
        "type": "kantata",
        "role": "psa",
        "base_url": info["base_url"],
        "mapping": mapping_file("kantata"),
        "options": {"token": info["credentials"]["token"]},
    }
    return Settings(database_url=f"sqlite:///{db}", connectors={"kantata": kantata})


def requests_served(base_url: str) -> int:
    seen = httpx.get(f"{base_url}/__admin/requests", timeout=10).raise_for_status().json()
    return int(sum(seen.values())) if isinstance(seen, dict) else 0


def engine_run(info: dict[str, Any], objects: list[str], tmp: Path) -> tuple[float, int, int, int]:
    """(seconds, records applied, HTTP calls, golden-store SQL statements) of the engine's
    initial sync. DBOS's own bookkeeping (its system database) is not counted."""
    config = settings(info, tmp / "engine.db")
    runtime = runtime_from_settings(config)
    runtime.routes = []
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(runtime.store.engine, "before_cursor_execute", count)
    start(runtime, config.database_url)
    before = requests_served(info["base_url"])
    began = time.perf_counter()
    applied = 0
    try:
        for obj in objects:
            applied += Poller(runtime, "kantata", obj).run().counts.get("applied", 0)
        wait_idle(60)
        seconds = time.perf_counter() - began
    finally:
        shutdown()
    return seconds, applied, requests_served(info["base_url"]) - before, statements[0]


def floor_run(info: dict[str, Any], objects: list[str], tmp: Path) -> tuple[float, int]:
    """(seconds, records) to fetch, parse and insert the same pages with no governance."""
    config = settings(info, tmp / "unused.db")
    runtime = runtime_from_settings(config)
    db = sqlite3.connect(tmp / "floor.db")
    db.execute("create table raw (system text, object text, id text, body text)")
    began, count = time.perf_counter(), 0
    connector = runtime.connector("kantata")
    for obj in objects:
        for page in connector.changes(obj, None):
            rows = [("kantata", obj, r.id, json.dumps(r.data)) for r in page.records]
            db.executemany("insert into raw values (?, ?, ?, ?)", rows)
            db.commit()
            count += len(rows)
    seconds = time.perf_counter() - began
    db.close()
    return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--objects", default=",".join(OBJECTS))
    args = parser.parse_args()
    objects = [o for o in args.objects.split(",") if o]
    ours, floors, applied, calls, records, sql = [], [], 0, 0, 0, 0
    for _ in range(args.repeat):
        with (
            tempfile.TemporaryDirectory() as tmp,
            Sandbox.start_all(
                "small", 0, systems=["kantata"], state_dir=Path(tmp) / "emu"
            ) as sandbox,
        ):
            info = sandbox.describe()["kantata"]
            seconds, records = floor_run(info, objects, Path(tmp))
            floors.append(seconds)
            seconds, applied, calls, sql = engine_run(info, objects, Path(tmp))
            ours.append(seconds)
    our_rate = records / statistics.median(ours)
    floor_rate = records / statistics.median(floors)
    print(
        json.dumps(
            {
                "system": "kantata (small firm)",
                "records": records,
                "applied": applied,
                "floor_records_per_s": round(floor_rate),
                "engine_records_per_s": round(our_rate),
                "ratio": round(our_rate / floor_rate, 3),
                "http_calls_per_record_written": round(calls / max(applied, 1), 4),
                "sql_statements_per_record_written": round(sql / max(applied, 1), 2),
                "engine_runs_s": [round(x, 2) for x in ours],
                "floor_runs_s": [round(x, 2) for x in floors],
            }
        )
    )


if __name__ == "__main__":
    main()
