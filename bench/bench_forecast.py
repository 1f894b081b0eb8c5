"""Time one forecast run against a floor: one DuckDB scan of the same inputs.

The synthetic firm is generated and its truth loaded into the analytics mirror with each fact
recorded at its valid time (`forecast.bulkload.load_truth`; the SQLite golden-store import
of a medium firm takes ~9 min on this machine and is benchmarked by bench_import.py). The
one-off typed version tables are built by the first `materialize` (timed separately: like the
sync, it is paid once per batch of new facts, not per forecast). Then, as of the firm's today:

- forecast: `run_forecast` end to end (as-of tables, snapshot parse, calibration, capacity
  placement, every component, cent rounding), best of `--repeat` runs, each after forcing the
  as-of tables to be rebuilt;
- floor: one SQL statement that reads every column of every as-of input table the forecast
  reads (already materialised), i.e. the cheapest possible pass over the same inputs.

Prints one JSON line. Goals (issue 7): medium <= 2 s, large <= 10 s on a 2-core machine.

    python bench/bench_forecast.py [--size medium|large|small] [--repeat R] [--horizon N]
                                   [--truth FILE] [--db FILE]

`--db FILE` keeps the loaded versions in a DuckDB file: the first run generates, loads and
saves them, later runs copy them back into memory instead (generating and loading the large
firm take ~6 min). Every timed step runs on the in-memory mirror either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from pathlib import Path

from pssync.forecast import AnalyticsStore, run_forecast
from pssync.forecast.bulkload import load_truth
from pssync.forecast.schema import ENTITY_COLUMNS, table_name
from pssync.sandbox.firm.generate import DEFAULT_TODAY, generate_firm

GOALS = {"medium": 2.0, "large": 10.0}
_KEPT = ("record_versions", "meta")  # what `--db` keeps: versions and their marks


def floor_scan(analytics: AnalyticsStore) -> float:
    """Seconds for one statement touching every column of every as-of input table."""
    parts = " UNION ALL ".join(
        f"SELECT count(*) AS n, sum(length(CAST(t AS VARCHAR))) AS b FROM {table_name(et)} t"
        for et in ENTITY_COLUMNS
    )
    start = time.perf_counter()
    analytics.con.execute(f"SELECT sum(n), sum(b) FROM ({parts})").fetchall()
    return time.perf_counter() - start


def save(analytics: AnalyticsStore, path: Path, firm: str, n_lines: int) -> None:
    """Keep the loaded versions in a DuckDB file (`--db`), so a later run skips generation."""
    con = analytics.con
    con.execute(f"ATTACH '{path}' AS saved")
    try:
        for table in _KEPT:
            con.execute(f"CREATE TABLE saved.{table} AS SELECT * FROM {table}")
        con.execute(
            "INSERT INTO saved.meta VALUES ('bench_firm', ?), ('bench_lines', ?)",
            [firm, str(n_lines)],
        )
    finally:
        con.execute("DETACH saved")


def restore(analytics: AnalyticsStore, path: Path, firm: str) -> tuple[int, int]:
    """Copy saved versions into the in-memory mirror: (versions, truth lines).

    The run itself stays in memory, as without `--db`; the typed tables are rebuilt (and
    timed) by the first `materialize`, exactly as after a fresh load. A file saved for
    another size or seed is refused rather than reported under the wrong name."""
    con = analytics.con
    con.execute(f"ATTACH '{path}' AS saved (READ_ONLY)")
    try:
        saved = con.execute("SELECT value FROM saved.meta WHERE key = 'bench_firm'").fetchall()
        if saved != [(firm,)]:
            raise SystemExit(f"{path} holds firm {saved[0][0] if saved else '?'}, not {firm}")
        for table in _KEPT:
            con.execute(f"INSERT INTO {table} SELECT * FROM saved.{table}")
    finally:
        con.execute("DETACH saved")
    con.execute("DELETE FROM meta WHERE key IN ('typed_versions', 'bench_firm')")
    n_lines = con.execute("SELECT value FROM meta WHERE key = 'bench_lines'").fetchall()
    versions = con.execute("SELECT count(*) FROM record_versions").fetchall()
    return int(versions[0][0]), int(n_lines[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=12)
    parser.add_argument("--truth", type=Path, help="reuse a truth.jsonl (skip generating)")
    parser.add_argument("--db", type=Path, help="keep (or reuse) the loaded mirror in this file")
    args = parser.parse_args()

    started = time.perf_counter()
    reuse = args.db is not None and args.db.exists()
    analytics = AnalyticsStore()
    generate_s = load_s = 0.0
    firm = f"{args.size}:{args.seed}:{args.truth or 'generated'}"
    if reuse:
        versions, n_lines = restore(analytics, args.db, firm)
    else:
        if args.truth:
            lines = args.truth.read_text().splitlines()
        else:
            lines = list(generate_firm(args.size, args.seed).truth_lines())
        generate_s = time.perf_counter() - started
        t0 = time.perf_counter()
        versions = load_truth(analytics, lines)
        load_s = time.perf_counter() - t0
        n_lines = len(lines)
        del lines
        if args.db is not None:
            save(analytics, args.db, firm, n_lines)
    t0 = time.perf_counter()
    analytics.materialize(DEFAULT_TODAY)
    typed_s = time.perf_counter() - t0

    forecast_runs, floor_runs = [], []
    result = None
    for _ in range(args.repeat):
        analytics.materialize(DEFAULT_TODAY - dt.timedelta(days=1))  # force a rebuild
        t0 = time.perf_counter()
        result = run_forecast(analytics, DEFAULT_TODAY, horizon=args.horizon)
        forecast_runs.append(time.perf_counter() - t0)
        floor_runs.append(floor_scan(analytics))
    assert result is not None
    best, floor = min(forecast_runs), min(floor_runs)
    print(
        json.dumps(
            {
                "bench": "forecast",
                "size": args.size,
                "lines": n_lines,
                "versions": versions,
                "as_of": DEFAULT_TODAY.isoformat(),
                "horizon_months": args.horizon,
                "forecast_best_s": round(best, 3),
                "forecast_median_s": round(statistics.median(forecast_runs), 3),
                "floor_s": round(floor, 4),
                "ratio": round(best / floor, 1),
                "goal_s": GOALS.get(args.size),
                "contributions": len(result.revenue),
                "deals_placed": len(result.placements),
                "total_revenue": str(result.total()),
                "generate_s": round(generate_s, 1),
                "load_s": round(load_s, 1),
                "typed_tables_s": round(typed_s, 2),
                "wall_s": round(time.perf_counter() - started, 1),
                "reused_db": reuse,
                "load_avg_1m": round(os.getloadavg()[0], 1),
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
