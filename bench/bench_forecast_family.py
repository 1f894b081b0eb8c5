"""Backtest the learned forecast on the world family (`sandbox.worlds`), seed by seed.

Issue 15's acceptance, measured on seeds fixed in advance (1000-1019 by default; develop on
others, e.g. 0-19): for each world, the forecast as of each of the last `--quarters` quarter
ends whose next quarter is fully realised before the world's today, against the revenue
recognised in that quarter. Each world's truth is loaded with `load_truth`, so every as-of
date reads only facts valid and recorded by then.

Per world: next-quarter WAPE over (as-of, service line) points of the learned model, the
bottom-up model alone and both baselines (run-rate, CRM weighted pipeline + backlog); firm-
total error (WAPE of the summed firm per as-of); P10-P90 coverage of the learned bands.
Degenerate bands (any of P10, P50, P90 equal) are counted in the learned next-quarter bands
and in the quarter bands the demo, API and CLI show (Monte Carlo), forecast as of a day
inside the world's last quarter: its partly realised quarter and every later one.
Family: medians, the ratio to the better baseline, the worst world against its run-rate.

    python bench/bench_forecast_family.py [--seeds 1000-1019] [--quarters 6] [--jobs N] [--json]

`--jobs N` runs N worlds at a time in separate processes (each world is independent; the
results are the same as one at a time, only the wall time differs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from decimal import Decimal
from typing import Any

from pssync.forecast import AnalyticsStore
from pssync.forecast.backtest import Point, backtest_run, quarters, score
from pssync.forecast.bulkload import load_truth
from pssync.forecast.montecarlo import bands_as_of
from pssync.forecast.scorecard import coverage, score_components
from pssync.planning.periods import add_months, month_end, month_start
from pssync.sandbox.worlds import generate_world

BASELINES = ("run_rate", "crm_pipeline")


def quarter_ends(today: dt.date, n: int) -> list[dt.date]:
    """The last `n` quarter ends T whose next three months end before `today`."""
    month = add_months(month_start(today), -4)  # T's month: T + 3 months <= last full month
    while month.month % 3:
        month = add_months(month, -1)
    last = month_end(month)
    return [month_end(add_months(last, -3 * k)) for k in range(n)][::-1]


def _wape(points: list[Point], method: str) -> float | None:
    rows = score([p for p in points if p.method == method], by=("method",))
    return float(rows[0]["wape"]) if rows and rows[0]["wape"] is not None else None


def _firm_error(points: list[Point], method: str) -> float | None:
    f: dict[dt.date, Decimal] = {}
    a: dict[dt.date, Decimal] = {}
    for p in points:
        if p.method == method:
            f[p.as_of] = f.get(p.as_of, Decimal(0)) + p.forecast
            a[p.as_of] = a.get(p.as_of, Decimal(0)) + p.actual
    total = sum(a.values(), Decimal(0))
    if not total:
        return None
    return float(sum((abs(f[t] - a[t]) for t in a), Decimal(0)) / total)


def product_bands(analytics: AnalyticsStore, as_of: dt.date) -> dict[str, Any]:
    """The Monte Carlo quarter bands of the forecast as of `as_of` (12 months), and how many
    are degenerate: P10, P50 and P90 not strictly increasing."""
    rows = bands_as_of(analytics, as_of, known_at=analytics.high_water_mark)[1]
    bad = [r["quarter"] for r in rows if not r["p10"] < r["p50"] < r["p90"]]
    return {"as_of": str(as_of), "quarters": len(rows), "degenerate": bad}


def run_world(seed: int, n_quarters: int) -> dict[str, Any]:
    started = time.perf_counter()
    world = generate_world(seed)
    analytics = AnalyticsStore()
    load_truth(analytics, world.truth_lines())
    dates = quarter_ends(world.today, n_quarters)
    run = backtest_run(analytics, dates, realised_as_of=world.today - dt.timedelta(days=1))
    q = quarters(run.points)
    out: dict[str, Any] = {"seed": seed, "as_of": [str(dates[0]), str(dates[-1])]}
    for method in ("model", "bottom_up", *BASELINES):
        out[f"{method}_wape"] = _wape(q, method)
        out[f"{method}_firm_error"] = _firm_error(q, method)
    better = min(out[f"{b}_wape"] for b in BASELINES)
    out["ratio_to_better_baseline"] = out["model_wape"] / better if better else None
    out["ratio_to_run_rate"] = out["model_wape"] / out["run_rate_wape"]
    out["coverage"] = coverage(run.bands)
    out["product_bands"] = product_bands(analytics, world.today - dt.timedelta(days=20))
    out["blend_weight"] = {str(t): round(v.blend.weight, 2) for t, v in run.learned.items()}
    out["components"] = score_components(run.components)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def summary(worlds: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return round(statistics.median(w[key] for w in worlds), 4)

    inside = sum(
        (w["coverage"]["line_coverage"] or 0) * w["coverage"]["line_quarters"] for w in worlds
    )
    n = sum(w["coverage"]["line_quarters"] for w in worlds)
    firm_in = sum(
        (w["coverage"]["firm_coverage"] or 0) * w["coverage"]["firm_quarters"] for w in worlds
    )
    firm_n = sum(w["coverage"]["firm_quarters"] for w in worlds)
    better = [min(w[f"{b}_wape"] for b in BASELINES) for w in worlds]
    return {
        "worlds": len(worlds),
        "median_model_wape": med("model_wape"),
        "median_bottom_up_wape": med("bottom_up_wape"),
        "median_run_rate_wape": med("run_rate_wape"),
        "median_crm_pipeline_wape": med("crm_pipeline_wape"),
        "median_better_baseline_wape": round(statistics.median(better), 4),
        "median_ratio_to_better_baseline": med("ratio_to_better_baseline"),
        "worst_ratio_to_run_rate": round(max(w["ratio_to_run_rate"] for w in worlds), 4),
        "worlds_worse_than_1_1x_run_rate": sum(w["ratio_to_run_rate"] > 1.1 for w in worlds),
        "median_model_firm_error": med("model_firm_error"),
        "median_run_rate_firm_error": med("run_rate_firm_error"),
        "line_band_coverage": round(inside / n, 4) if n else None,
        "firm_band_coverage": round(firm_in / firm_n, 4) if firm_n else None,
        "degenerate_bands": sum(w["coverage"]["degenerate_bands"] for w in worlds),
        "degenerate_product_bands": sum(len(w["product_bands"]["degenerate"]) for w in worlds),
        "product_quarter_bands": sum(w["product_bands"]["quarters"] for w in worlds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="1000-1019")
    parser.add_argument("--quarters", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=1, help="worlds run at a time")
    parser.add_argument("--json", action="store_true", help="every world in full")
    args = parser.parse_args()
    started = time.perf_counter()
    worlds = []
    seeds = _seeds(args.seeds)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_world, seed, args.quarters) for seed in seeds]
        for future in as_completed(futures):
            w = future.result()
            worlds.append(w)
            if args.json:  # each world as it completes, so a stopped run keeps what it did
                print(json.dumps(w, sort_keys=True, default=str), file=sys.stderr, flush=True)
                continue
            print(
                f"seed {w['seed']}: model {w['model_wape']:.3f} "
                f"bottom-up {w['bottom_up_wape']:.3f} "
                f"run-rate {w['run_rate_wape']:.3f} crm {w['crm_pipeline_wape']:.3f} "
                f"firm {w['model_firm_error']:.3f}/{w['run_rate_firm_error']:.3f} "
                f"cover {w['coverage']['line_coverage']} w {list(w['blend_weight'].values())} "
                f"({w['seconds']} s)",
                flush=True,
            )
    worlds.sort(key=lambda w: int(w["seed"]))
    result = {
        "bench": "forecast_family",
        "seeds": args.seeds,
        "quarters": args.quarters,
        "jobs": args.jobs,
        "summary": summary(worlds),
        "wall_s": round(time.perf_counter() - started, 1),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }
    if args.json:
        result["worlds"] = worlds
    print(json.dumps(result, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
