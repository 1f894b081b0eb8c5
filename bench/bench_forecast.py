"""Time one forecast run against a floor: one DuckDB scan of the same inputs.

The synthetic firm is generated, imported into a SQLite golden store and mirrored into DuckDB
(timed separately: that is the incremental sync's full-load worst case). Then, as of the
firm's "today" (history read as known now, since it was bulk-loaded):

- forecast: `run_forecast` end to end (as-of tables, snapshot parse, calibration, capacity
  placement, every component, cent rounding), best of `--repeat` runs;
- floor: one SQL statement that reads every column of every as-of input table the forecast
  reads (the tables already materialised), i.e. the cheapest possible pass over the inputs.

The ratio says what the forecast logic costs on top of merely touching its inputs.

    python bench/bench_forecast.py [--size small|medium] [--repeat R] [--horizon N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pssync.forecast import AnalyticsStore, run_forecast
from pssync.forecast.schema import ENTITY_COLUMNS, table_name
from pssync.sandbox.firm.generate import DEFAULT_TODAY, generate_firm
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import import_lines


def floor_scan(analytics: AnalyticsStore) -> float:
    parts = " UNION ALL ".join(
        f"SELECT count(*) AS n, sum(length(CAST(payload AS VARCHAR))) AS b FROM {table_name(et)}"
        for et in ENTITY_COLUMNS
    )
    start = time.perf_counter()
    analytics.con.execute(f"SELECT sum(n), sum(b) FROM ({parts})").fetchall()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=12)
    args = parser.parse_args()

    firm = generate_firm(args.size, 7)
    lines = list(firm.truth_lines())
    with tempfile.TemporaryDirectory() as tmp:
        store = GoldenStore(open_engine(f"sqlite:///{Path(tmp) / 'golden.db'}"))
        import_lines(store, lines)
        analytics = AnalyticsStore(Path(tmp) / "analytics.duckdb")
        start = time.perf_counter()
        sync = analytics.sync(store)
        sync_s = time.perf_counter() - start
        start = time.perf_counter()
        again = analytics.sync(store)
        resync_s = time.perf_counter() - start
        known = analytics.high_water_mark
        forecast_runs, floor_runs = [], []
        result = None
        for _ in range(args.repeat):
            analytics.materialize(DEFAULT_TODAY.replace(day=2), known)  # force a rebuild
            start = time.perf_counter()
            result = run_forecast(analytics, DEFAULT_TODAY, horizon=args.horizon, known_at=known)
            forecast_runs.append(time.perf_counter() - start)
            floor_runs.append(floor_scan(analytics))
        assert result is not None
        best, floor = min(forecast_runs), min(floor_runs)
        print(f"firm: {args.size}, {len(lines)} canonical lines, {sync.rows} version rows")
        print(f"sync (full) {sync_s:.3f}s; sync (no change) {resync_s:.3f}s ({again.rows} rows)")
        print(
            f"forecast as of {DEFAULT_TODAY}, {args.horizon} months: best {best:.3f}s, "
            f"median {statistics.median(forecast_runs):.3f}s; "
            f"{len(result.revenue)} contributions, {len(result.placements)} deals placed"
        )
        print(f"floor (one DuckDB scan of the inputs): best {floor * 1000:.1f} ms")
        print(f"forecast / floor: {best / floor:.0f}x")


if __name__ == "__main__":
    main()
