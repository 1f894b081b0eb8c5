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
from pssync.forecast.backtest import METHODS, Point, backtest, quarters, score
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dates", type=int, default=12)
    parser.add_argument("--truth", type=Path, help="reuse a truth.jsonl (skip generating)")
    args = parser.parse_args()

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
