"""Bulk initial sync through the engine vs a floor of the same pages with no governance.

Calls per record written: HTTP requests the sources served, and SQL statements on the golden
store, per record the engine applied.

The synthetic firm (`medium` by default: ~370k Kantata time entries) is generated, its systems'
emulators started and seeded, and every object their shipped mappings name (Kantata's by
default: workspaces, stories, users, allocations, time entries, invoices) is synced into a fresh
golden store by the engine: DBOS page workflows, inbox, translation, enrichers (references to
canonical IDs), validation, governance stages, system-of-record gate, bitemporal write, audit.
As in `pssync demo`, the firm's reference data (regions, roles, the HR master of people...)
is imported into the golden store first and not timed: it is configuration a firm loads once,
and without the HR master every Kantata user is invalid (no region or cost rate), so every time
entry would hold a dangling reference.
The floor reads the same pages through the same connectors and inserts each record's raw JSON
with one `executemany` per page into a SQLite table: fetching and parsing, nothing else. It runs
before and after the engine (its rate is from the median of those runs), because the machine's
load moves during a run of minutes.

The engine and the floor each run in a process of their own, apart from the emulators (which
serve from this one), as pssync and the vendors' systems do: in one Python process the
emulators' request handling would take the engine's interpreter lock from it. The engine runs
with one page process per core (`Settings.page_processes`, docs/decisions/0003); `--page-processes
0` measures it applying pages in its own threads only.

    python bench/bench_sync.py [--size medium] [--systems kantata,...] [--objects a,b]
                               [--repeat R] [--no-governance] [--page-processes N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from pssync.config.settings import Settings
from pssync.demo.config import sandbox_config
from pssync.demo.run import REFERENCE_TYPES
from pssync.engine import page_processes
from pssync.engine.cycle import CycleOptions, run_cycle
from pssync.engine.dbos_app import shutdown
from pssync.engine.setup import capturable
from pssync.engine.stages import Stages
from pssync.engine.worker import start, wait_idle
from pssync.runtime import build_runtime
from pssync.sandbox.up import Sandbox
from pssync.store.jsonl import import_lines

# Page processes the engine forks by default (`Settings.page_processes`): one per core.
PAGE_PROCESSES = max(1, os.cpu_count() or 1)


def config_of(sandbox: Sandbox, db: Path) -> dict[str, Any]:
    """The sandbox's connectors with their shipped mappings, no flows (nothing is delivered:
    this measures ingest), as plain data a child process can take."""
    config = sandbox_config(sandbox, db.parent)
    config["database_url"] = f"sqlite:///{db}"
    config.pop("flows", None)
    config.pop("analytics_path", None)
    return config


def settings(sandbox: Sandbox, db: Path) -> Settings:
    return Settings(**config_of(sandbox, db))


def in_child(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a fresh process (spawned: nothing of this one's threads)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def plan(config: Settings, systems: list[str], objects: list[str]) -> list[tuple[str, str]]:
    """(system, object) pairs to sync, in mapping order (references resolve to records read
    earlier); `objects` narrows them."""
    runtime = build_runtime(config)
    pairs = [(s, o) for s, o in capturable(runtime) if s in systems]
    pairs.sort(key=lambda p: systems.index(p[0]))
    return [(s, o) for s, o in pairs if not objects or o in objects]


def requests_served(sandbox: Sandbox) -> int:
    """HTTP requests the emulators served so far (those that count them): each one's `total`
    counter, once; the per-path counters beside it break the same requests down again."""
    total = 0
    for info in sandbox.describe().values():
        base_url = info.get("base_url")
        if not base_url:
            continue
        try:
            seen = httpx.get(f"{base_url}/__admin/requests", timeout=10).json()
        except (httpx.HTTPError, ValueError):
            continue
        total += int(seen.get("total", 0)) if isinstance(seen, dict) else 0
    return total


def engine_run(
    sandbox: Sandbox,
    pairs: list[tuple[str, str]],
    tmp: Path,
    governed: bool,
    processes: int = PAGE_PROCESSES,
) -> tuple[float, int, int, int]:
    """(seconds, records applied, HTTP calls, golden-store SQL statements) of the engine's
    initial sync, run in a process of its own. DBOS's own bookkeeping (its system database) is
    not counted. As in `pssync demo`, the reference data is imported first, untimed."""
    reference = [
        line
        for line in sandbox.firm.truth_lines()
        if json.loads(line)["entity_type"] in REFERENCE_TYPES
    ]
    config = config_of(sandbox, tmp / "engine.db")
    before = requests_served(sandbox)
    seconds, applied, sql = in_child(_engine_sync, config, pairs, reference, governed, processes)
    return seconds, applied, requests_served(sandbox) - before, sql


def _engine_sync(
    config: dict[str, Any],
    pairs: list[tuple[str, str]],
    reference: list[str],
    governed: bool,
    processes: int,
) -> tuple[float, int, int]:
    settings = Settings(**config)
    runtime = build_runtime(settings)
    runtime.routes = []
    if not governed:
        runtime.stages = Stages()
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    start(runtime, settings.database_url, page_processes=processes)
    import_lines(runtime.store, reference, system="reference")
    event.listen(runtime.store.engine, "before_cursor_execute", count)
    began = time.perf_counter()
    applied = 0
    try:
        # One worker cycle, as `pssync sync` runs it, over the pairs being measured.
        cycle = CycleOptions(systems=[s for s, _ in pairs], objects=[o for _, o in pairs])
        applied += run_cycle(runtime, cycle).counts().get("applied", 0)
        wait_idle(60)
        seconds = time.perf_counter() - began
        statements[0] += page_processes.served().statements
    finally:
        shutdown()
    return seconds, applied, statements[0]


def floor_run(sandbox: Sandbox, pairs: list[tuple[str, str]], tmp: Path) -> tuple[float, int]:
    """(seconds, records) to fetch, parse and insert the same pages with no governance, in a
    process of its own."""
    tmp.mkdir(parents=True, exist_ok=True)
    return in_child(_floor, config_of(sandbox, tmp / "unused.db"), pairs, tmp)  # type: ignore[no-any-return]


def _floor(config: dict[str, Any], pairs: list[tuple[str, str]], tmp: Path) -> tuple[float, int]:
    runtime = build_runtime(Settings(**config))
    db = sqlite3.connect(tmp / "floor.db")
    db.execute("create table raw (system text, object text, id text, body text)")
    began, count = time.perf_counter(), 0
    for system, obj in pairs:
        for page in runtime.connector(system).changes(obj, None):
            rows = [(system, obj, r.id, json.dumps(r.data, default=str)) for r in page.records]
            db.executemany("insert into raw values (?, ?, ?, ?)", rows)
            db.commit()
            count += len(rows)
    seconds = time.perf_counter() - began
    db.close()
    return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium", help="synthetic firm size")
    parser.add_argument("--systems", default="kantata", help="comma-separated sandbox systems")
    parser.add_argument("--objects", default="", help="only these objects (default: all mapped)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--no-governance",
        "--no-hooks",
        dest="no_governance",
        action="store_true",
        help="without governance's stages (enrichers, checks, the ownership matrix)",
    )
    parser.add_argument(
        "--page-processes",
        type=int,
        default=PAGE_PROCESSES,
        help=f"page processes the engine forks (default {PAGE_PROCESSES}, one per core; 0: none)",
    )
    args = parser.parse_args()
    systems = [s for s in args.systems.split(",") if s]
    objects = [o for o in args.objects.split(",") if o]
    ours, floors, applied, calls, records, sql = [], [], 0, 0, 0, 0
    pairs: list[tuple[str, str]] = []
    for _ in range(args.repeat):
        with (
            tempfile.TemporaryDirectory() as tmp,
            Sandbox.start_all(
                args.size, 0, systems=systems, state_dir=Path(tmp) / "emu"
            ) as sandbox,
        ):
            pairs = plan(settings(sandbox, Path(tmp) / "unused.db"), systems, objects)
            # The floor runs before and after the engine: on a shared machine the load moves
            # during a run of minutes, and one floor next to it would tilt the ratio.
            seconds, records = floor_run(sandbox, pairs, Path(tmp) / "before")
            floors.append(seconds)
            seconds, applied, calls, sql = engine_run(
                sandbox, pairs, Path(tmp), not args.no_governance, args.page_processes
            )
            ours.append(seconds)
            floors.append(floor_run(sandbox, pairs, Path(tmp) / "after")[0])
    our_rate = records / statistics.median(ours)
    floor_rate = records / statistics.median(floors)
    print(
        json.dumps(
            {
                "firm": args.size,
                "objects": [f"{s}:{o}" for s, o in pairs],
                "governance_hooks": not args.no_governance,
                "page_processes": args.page_processes,
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
