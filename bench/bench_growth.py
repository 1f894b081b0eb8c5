"""Cost growth of sync, forecast and reconcile: time and peak memory against records.

Issue 19 item 4. Each run is a process of its own, timed start to exit, peak RSS from `wait4`:

- reconcile: the world of `bench_reconcile.py` (a file-drop customers export and the golden
  store, 1% drift, 0.5% missing, 0.5% deleted), `pssync reconcile --system filedrop` twice
  (both take the columnar path, docs/decisions/0007; the second refreshes the exceptions);
- sync: the same export into an empty golden store, `pssync sync --json`: the connector, the
  page pipeline with governance (validation, identity, duplicates, ownership), history and
  audit, for every record; also its CPU seconds (page processes included), fitted as time is;
- forecast: `bench_forecast.py --size S --repeat 1` (the synthetic firm generated and loaded
  into the analytics mirror, then one forecast): its own forecast seconds and lines.

The fit is least squares of log(cost) on log(records): ~1 is linear, n log n over these
sizes reads as ~1.05-1.1. Each process's start (imports, the engine) is a fixed cost; it is
measured at the smallest size and the fit is also given with it subtracted.

    python bench/bench_growth.py [--reconcile 1000,30000,100000,300000] [--sync 300,1000,3000,10000]
                                 [--forecast small,medium]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_reconcile import build, load, measured, run_pssync


def exponent(points: list[tuple[float, float]]) -> float | None:
    """Slope of the least-squares line through (log x, log y); None under two points."""
    if len(points) < 2:
        return None
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return round(num / den, 2)


def fits(
    rows: list[dict[str, Any]], seconds: str, memory: str, start: bool = True
) -> dict[str, Any]:
    """Exponents over all but the smallest size (which measures the process's start), raw
    and with the smallest's cost taken off; over every size where no start is included."""
    base, rest = rows[0], rows[1:] if start else rows
    return {
        "time_exponent": exponent([(r["records"], r[seconds]) for r in rest]),
        "time_exponent_without_start": exponent(
            [(r["records"], max(0.1, r[seconds] - base[seconds])) for r in rest]
        ),
        "memory_exponent": exponent([(r["records"], r[memory]) for r in rest]),
        "memory_exponent_without_start": exponent(
            [(r["records"], max(1.0, r[memory] - base[memory])) for r in rest]
        ),
    }


def reconcile_growth(sizes: list[int], tmp: Path) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        workdir = tmp / f"reconcile-{size}"
        build(workdir, size)
        first = run_pssync(workdir, repair=False)
        again = run_pssync(workdir, repair=False)
        rows.append(
            {
                "records": size,
                "seconds": first["seconds"],
                "peak_rss_mb": first["peak_rss_mb"],
                "second_seconds": again["seconds"],
                "second_peak_rss_mb": again["peak_rss_mb"],
                "load_1m": first["load_1m_before"],
                "findings_ok": first["drift"] == size // 100 and first["deleted"] == size // 200,
            }
        )
    return rows


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's waited-for children and theirs (a sync's
    page processes): a run's is the difference across it, which the load does not stretch."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def sync_growth(sizes: list[int], tmp: Path) -> list[dict[str, Any]]:
    pssync = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
    rows = []
    for size in sizes:
        workdir = tmp / f"sync-{size}"
        build(workdir, size, golden_store=False)
        before, cpu = load(), children_cpu()
        seconds, peak, out = measured([*pssync, "sync", "--config", "pssync.yaml"], workdir)
        rows.append(
            {
                "records": size,
                "seconds": round(seconds, 1),
                "cpu_s": round(children_cpu() - cpu, 1),
                "peak_rss_mb": round(peak),
                "load_1m": before,
                "output_tail": out.strip().splitlines()[-3:],
            }
        )
    return rows


def forecast_growth(sizes: list[str], tmp: Path) -> list[dict[str, Any]]:
    script = Path(__file__).parent / "bench_forecast.py"
    rows = []
    for size in sizes:
        before = load()
        command = [sys.executable, str(script), "--size", size, "--repeat", "1"]
        seconds, peak, out = measured(command, tmp)
        got = json.loads(out.strip().splitlines()[-1])
        rows.append(
            {
                "size": size,
                "records": got["versions"],
                "seconds": got["forecast_best_s"],
                "process_seconds": round(seconds, 1),
                "peak_rss_mb": round(peak),
                "generate_and_load_s": round(got["generate_s"] + got["load_s"], 1),
                "load_1m": before,
            }
        )
    return rows


def sizes_of(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reconcile", default="1000,30000,100000,300000")
    parser.add_argument("--sync", default="300,1000,3000,10000")
    parser.add_argument("--forecast", default="small,medium")
    args = parser.parse_args()
    result: dict[str, Any] = {"bench": "growth", "load_avg_1m_before": load()}
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        if args.reconcile:
            rows = reconcile_growth(sizes_of(args.reconcile), Path(tmp))
            result["reconcile"] = {"rows": rows, **fits(rows, "seconds", "peak_rss_mb")}
            print(json.dumps(result), file=sys.stderr)
        if args.sync:
            rows = sync_growth(sizes_of(args.sync), Path(tmp))
            cpu = {
                f"cpu_{k}": v for k, v in fits(rows, "cpu_s", "peak_rss_mb").items() if "time" in k
            }
            result["sync"] = {"rows": rows, **fits(rows, "seconds", "peak_rss_mb"), **cpu}
            print(json.dumps(result), file=sys.stderr)
        if args.forecast:
            rows = forecast_growth([s for s in args.forecast.split(",") if s], Path(tmp))
            # Forecast seconds are the forecast's own (no start), its memory the process's.
            result["forecast"] = {"rows": rows, **fits(rows, "seconds", "peak_rss_mb", False)}
    result["load_avg_1m_after"] = load()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
