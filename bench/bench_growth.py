"""Cost growth of `pssync reconcile`: time and peak memory against records, log-log fitted.

Issue 19 item 4 asks this for sync, forecast and reconcile; this script covers reconcile only
(sync and forecast are not measured here yet). For each size the world of
`bench_reconcile.py` is built (a file-drop export and the golden store, with 1% drift, 0.5%
missing, 0.5% deleted) and `pssync reconcile --system filedrop` reports on it in a process of
its own, twice: the first report compares every record (and keeps digests of those in step),
the second compares only what changed since (docs/decisions/0005). The fit is least squares
of log(cost) on log(records): an exponent near 1 is linear,
n log n over these sizes reads as ~1.05-1.1. The process's start (imports, the engine's
start) is a fixed cost in every size; it is measured on a 1,000-record world and the fit is
given with it subtracted too.

    python bench/bench_growth.py [--sizes 20000,100000,300000]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_reconcile import build, load, run_pssync


def exponent(points: list[tuple[float, float]]) -> float:
    """Slope of the least-squares line through (log x, log y)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return round(num / den, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000,300000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        for size in [1000, *sizes]:
            workdir = Path(tmp) / str(size)
            build(workdir, size)
            first = run_pssync(workdir, repair=False)
            run = run_pssync(workdir, repair=False)
            rows.append(
                {
                    "records": size,
                    "first_seconds": first["seconds"],
                    "first_peak_rss_mb": first["peak_rss_mb"],
                    "seconds": run["seconds"],
                    "peak_rss_mb": run["peak_rss_mb"],
                }
            )
    base, measured = rows[0], rows[1:]
    result = {
        "bench": "growth",
        "load_avg_1m": load(),
        "reconcile": rows,
        "reconcile_time_exponent": exponent([(r["records"], r["seconds"]) for r in measured]),
        "reconcile_time_exponent_without_start": exponent(
            [(r["records"], max(0.1, r["seconds"] - base["seconds"])) for r in measured]
        ),
        "reconcile_first_time_exponent": exponent(
            [(r["records"], r["first_seconds"]) for r in measured]
        ),
        "reconcile_first_memory_exponent": exponent(
            [(r["records"], r["first_peak_rss_mb"]) for r in measured]
        ),
        "reconcile_memory_exponent": exponent([(r["records"], r["peak_rss_mb"]) for r in measured]),
        "reconcile_memory_exponent_without_start": exponent(
            [(r["records"], max(1.0, r["peak_rss_mb"] - base["peak_rss_mb"])) for r in measured]
        ),
        "not_measured": ["sync", "forecast"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
