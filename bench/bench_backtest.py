"""Backtest the forecast on the synthetic firm: next-quarter WAPE and bias by service line.

Issue 7's acceptance: the pssync forecast's next-quarter WAPE by service line must be below
both baselines computed in the same run, the CRM's weighted pipeline (stage probability x
amount from the close date) plus the same backlog, and finance's three-month run-rate. Since
issue 15 `model` is the learned forecast (`forecast.learned`) and `bottom_up` the model
without its learned adjustments; `model_beats_both` compares the model with all three.

The firm's truth (history with valid times) is loaded straight into the analytics mirror with
each fact recorded at its valid time (`forecast.bulkload.load_truth`), not through the SQLite
golden store: importing medium's ~419k lines that way took ~9 min on this machine against
~1 min here, and it would record every fact at import time, so a backtest would have to read
history "as known now". Here each as-of date T reads only facts valid *and* recorded by the
end of T: the no-look-ahead rule holds by construction.

For each of `--dates` month-ends T (the latest whose next three months are fully realised,
going back one month at a time), each method forecasts months T+1..T+3; the realised revenue
is what the ERP recognised in those months (revenue events, as known at the firm's today).
Scores are over next-quarter totals per (T, service line): WAPE = sum |f - a| / sum |a|,
bias = sum (f - a) / sum |a|; monthly WAPE (each month of the quarter a point) is reported too.

    python bench/bench_backtest.py [--size medium] [--seed 7] [--dates 12] [--truth FILE]

`--synced` measures the product path instead (issue 13, "the trust chain"): the demo's pipeline
(sandbox -> connectors -> engine -> golden store, `pssync demo`'s clock and flows) on a fresh
directory, then the backtest `pssync backtest` runs by default (the last `--quarters` realised
quarters, actuals up to the demo's today, no `--known-now`) on the synced store, and the same
backtest on the same firm's truth loaded with `load_truth`. It reports both scorecards' WAPE by
method and, per as-of date, each forecast component on both sides, so a difference can be traced
to the facts the synced store knew later, or not at all.

    python bench/bench_backtest.py --synced [--size small] [--seed 0] [--quarters 4]
                                   [--clock-steps 1] [--deal-desk]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from pssync.forecast import AnalyticsStore
from pssync.forecast.backtest import (
    METHODS,
    Point,
    backtest,
    backtest_run,
    last_realised_quarters,
    quarters,
    score,
)
from pssync.forecast.bulkload import load_truth
from pssync.planning.periods import add_months, month_end
from pssync.sandbox.firm.generate import DEFAULT_TODAY, generate_firm

HORIZON = 3


def as_of_dates(today: dt.date, n: int) -> list[dt.date]:
    """The last `n` month-ends whose following quarter ends before `today`."""
    last_realised = add_months(today, -1)  # month of the last full month before today
    latest = month_end(add_months(last_realised, -HORIZON))
    return [month_end(add_months(latest, -k)) for k in range(n)][::-1]


def _num(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 4)


def table(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """{service line: {method: {wape, bias}}}; "all" is the firm total per (T, quarter)."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for r in rows:
        sl = str(r.get("service_line") or "all")
        out.setdefault(sl, {})[r["method"]] = {"wape": _num(r["wape"]), "bias": _num(r["bias"])}
    return out


def firm_totals(points: list[Point]) -> list[Point]:
    """One point per (method, as-of): every service line summed (service line None)."""
    acc: dict[tuple[str, dt.date], list[Decimal]] = {}
    for p in points:
        f, a = acc.setdefault((p.method, p.as_of), [Decimal(0), Decimal(0)])
        acc[(p.method, p.as_of)] = [f + p.forecast, a + p.actual]
    return [Point(method, as_of, 0, as_of, None, f, a) for (method, as_of), (f, a) in acc.items()]


def components(analytics: AnalyticsStore, as_of: dt.date) -> dict[str, float]:
    """The bottom-up forecast's components over the next quarter as of `as_of`."""
    from pssync.forecast.run import run_forecast

    result = run_forecast(analytics, as_of, horizon=HORIZON + 1)
    months = [add_months(as_of.replace(day=1), h) for h in range(1, HORIZON + 1)]
    found = sorted({c.component for c in result.revenue}, key=lambda c: c.value)
    return {c.value: round(float(result.total(c, months)), 2) for c in found}


def synced_vs_truth(
    size: str, seed: int, n_quarters: int, clock_steps: int, deal_desk: bool
) -> dict[str, Any]:
    """The same backtest on the demo's synced store and on the firm's truth (see the module)."""
    import tempfile

    from rich.console import Console
    from rich.progress import Progress

    from pssync.demo.firm_truth import firm_truth
    from pssync.demo.run import DemoOptions, run_demo
    from pssync.forecast.scorecard import build_scorecard

    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as work:
        t0 = time.perf_counter()
        options = DemoOptions(
            Path(work), size=size, seed=seed, clock_steps=clock_steps, deal_desk=deal_desk
        )
        result = run_demo(options, Progress(console=Console(quiet=True)))
        sync_s = time.perf_counter() - t0
        stores = {"synced": AnalyticsStore(), "truth": AnalyticsStore()}
        stores["synced"].sync(result.store)
        days = options.days_per_step
        load_truth(
            stores["truth"], firm_truth(size, seed, result.start_day, clock_steps, days).lines
        )
        dates = last_realised_quarters(result.as_of, n_quarters)
        out: dict[str, Any] = {
            "bench": "backtest --synced",
            "size": size,
            "seed": seed,
            "clock_steps": clock_steps,
            "deal_desk": deal_desk,
            "realised_as_of": str(result.as_of),
            "as_of_dates": [str(d) for d in dates],
            "sync_s": round(sync_s, 1),
        }
        t0 = time.perf_counter()
        for side, analytics in stores.items():
            card = build_scorecard(backtest_run(analytics, dates, realised_as_of=result.as_of))
            out[side] = {
                "next_quarter_wape": {r["method"]: r["wape"] for r in card["next_quarter"]},
                "by_component": {r["component"]: r["bottom_up_wape"] for r in card["by_component"]},
                "components": {str(d): components(analytics, d) for d in dates},
            }
        out["backtest_s"] = round(time.perf_counter() - t0, 1)
        out["wape_gap_points"] = {
            m: round(100 * (float(w) - float(out["truth"]["next_quarter_wape"][m] or 0)), 1)
            for m, w in out["synced"]["next_quarter_wape"].items()
            if w is not None
        }
        out["load_avg_1m"] = round(os.getloadavg()[0], 1)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default=None, help="medium (small with --synced)")
    parser.add_argument("--seed", type=int, default=None, help="7 (0 with --synced)")
    parser.add_argument("--dates", type=int, default=12)
    parser.add_argument("--truth", type=Path, help="reuse a truth.jsonl (skip generating)")
    parser.add_argument("--synced", action="store_true", help="the demo's synced store vs truth")
    parser.add_argument("--quarters", type=int, default=4, help="with --synced: as-of dates")
    parser.add_argument("--clock-steps", type=int, default=1, help="with --synced")
    parser.add_argument("--deal-desk", action="store_true", help="with --synced: map, replay")
    args = parser.parse_args()
    if args.synced:
        size, seed = args.size or "small", 0 if args.seed is None else args.seed
        report = synced_vs_truth(size, seed, args.quarters, args.clock_steps, args.deal_desk)
        print(json.dumps(report, sort_keys=True, default=str))
        return
    args.size = args.size or "medium"
    args.seed = 7 if args.seed is None else args.seed

    started = time.perf_counter()
    if args.truth:
        lines = args.truth.read_text().splitlines()
    else:
        lines = list(generate_firm(args.size, args.seed).truth_lines())
    generated_s = time.perf_counter() - started

    analytics = AnalyticsStore()
    t0 = time.perf_counter()
    versions = load_truth(analytics, lines)
    load_s = time.perf_counter() - t0
    del lines

    dates = as_of_dates(DEFAULT_TODAY, args.dates)
    realised_as_of = DEFAULT_TODAY - dt.timedelta(days=1)
    t0 = time.perf_counter()
    points = backtest(analytics, dates, horizon=HORIZON, realised_as_of=realised_as_of)
    backtest_s = time.perf_counter() - t0

    q = quarters(points, HORIZON)
    by_line = table(score(q, by=("method", "service_line")))
    by_line["all"] = table(score(firm_totals(q), by=("method", "service_line")))["all"]
    monthly = table(score(points, by=("method", "service_line")))
    beats = {
        sl: all((m["model"]["wape"] or 0) < (m[b]["wape"] or 0) for b in METHODS if b != "model")
        for sl, m in by_line.items()
    }
    print(
        json.dumps(
            {
                "bench": "backtest",
                "size": args.size,
                "seed": args.seed,
                "history": "load_truth (recorded at valid time)",
                "as_of": [d.isoformat() for d in (dates[0], dates[-1])],
                "as_of_dates": len(dates),
                "horizon_months": HORIZON,
                "versions": versions,
                "next_quarter": by_line,
                "monthly": monthly,
                "model_beats_both": beats,
                "generate_s": round(generated_s, 1),
                "load_s": round(load_s, 1),
                "backtest_s": round(backtest_s, 1),
                "wall_s": round(time.perf_counter() - started, 1),
                "load_avg_1m": round(os.getloadavg()[0], 1),
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
