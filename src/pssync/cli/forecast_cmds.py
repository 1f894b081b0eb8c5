"""Forecast commands: `forecast`, `backtest` and `kpis` over the DuckDB analytics mirror.

Each command opens the golden store, brings the analytics mirror up to date incrementally and
reads only from the mirror, so the same numbers come out of the CLI, the API and the tests.
The lead wires these into cli/main.py (``app.command("forecast")(forecast_command)`` ...).
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections import defaultdict
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pssync.cli.backtest_view import print_scorecard
from pssync.cli.output import console, emit_json, fail, open_store, settings
from pssync.config import ConfigError, Settings, load_settings
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backtest import backtest_run, last_realised_quarters, score
from pssync.forecast.calibration import calibrate
from pssync.forecast.components import Component
from pssync.forecast.held_back import HeldBackLine
from pssync.forecast.learned import learned_forecast
from pssync.forecast.montecarlo import revenue_band
from pssync.forecast.run import DIMENSIONS, Scenario, forecast_snapshot
from pssync.forecast.scorecard import build_scorecard
from pssync.forecast.snapshot import load_snapshot
from pssync.forecast.versions import save_version
from pssync.planning.periods import add_months, month_end, month_start

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: from pssync.yaml, else ./pssync.db)."),
]
AnalyticsOption = Annotated[
    Path | None,
    typer.Option(
        "--analytics",
        help="DuckDB analytics file (default: analytics_path of pssync.yaml, pssync.duckdb).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date (default: today, UTC)."),
]
KnownNowOption = Annotated[
    bool,
    typer.Option(
        "--known-now",
        help="Read history as known now, not as known at the as-of date (for bulk-loaded "
        "history whose recorded times are the load time; admits later corrections).",
    ),
]


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _analytics(db: str | None, path: Path | None) -> AnalyticsStore:
    analytics = AnalyticsStore(path or Path(settings().analytics_path))
    analytics.sync(open_store(db))
    return analytics


def _held_back(db: str | None) -> list[HeldBackLine]:
    """The value open exceptions hold back (pssync.yaml's mappings read their records)."""
    from pssync.runtime.held_back import held_back_now  # the runtime loads the engine

    try:
        config: Settings | None = load_settings()
    except ConfigError:
        config = None
    return held_back_now(open_store(db), config)


def _as_of(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.datetime.now(dt.UTC).date()


def _scenario(name: str | None, multiplier: float, shift: int, capacity: list[str]) -> Scenario:
    added: dict[str, float] = {}
    for item in capacity:
        role, sep, hours = item.partition("=")
        if not sep:
            raise fail(f"--add-capacity expects ROLE[@REGION]=WEEKLY_HOURS, got {item!r}")
        added[role] = float(hours)
    return Scenario(name or "base", Decimal(str(multiplier)), shift, added)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, (Decimal, dt.date)) else v) for k, v in row.items()}


def _print_table(rows: list[dict[str, Any]], by: list[str], title: str) -> None:
    pivot: dict[tuple[Any, ...], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in rows:
        key = (r["month"], *(r[d] for d in by))
        pivot[key][r["component"]] += r["revenue"]
        pivot[key]["cost"] += r["cost"]
    table = Table(title=title)
    for column in ["month", *by]:
        table.add_column(column)
    components = [c.value for c in Component if not c.value.startswith("learned_")]
    learned = [c.value for c in Component if c.value.startswith("learned_")]
    for column in [*components, "learned", "total", "margin"]:
        table.add_column(column.replace("_", " "), justify="right")
    for key, values in sorted(pivot.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        adjusted = sum((values[c] for c in learned), Decimal(0))
        total = sum((values[c] for c in components), adjusted)
        cells = [f"{values[c]:,.2f}" for c in components] + [f"{adjusted:,.2f}"]
        table.add_row(
            *(str(k or "-") for k in key), *cells, f"{total:,.2f}", f"{total - values['cost']:,.2f}"
        )
    console.print(table)


def forecast_command(
    as_of: AsOfOption = None,
    by: Annotated[
        str, typer.Option(help="Dimensions, comma-separated: service_line,region,legal_entity.")
    ] = "service_line,region",
    horizon: Annotated[int, typer.Option(min=1, max=60, help="Months from the as-of month.")] = 12,
    lookback: Annotated[int, typer.Option(min=0, max=36, help="Past months to show.")] = 0,
    scenario: Annotated[str | None, typer.Option(help="Name of this what-if scenario.")] = None,
    probability_multiplier: Annotated[
        float, typer.Option(min=0.0, help="Scale every win probability.")
    ] = 1.0,
    shift_days: Annotated[int, typer.Option(help="Shift every requested start (days).")] = 0,
    add_capacity: Annotated[
        list[str] | None,
        typer.Option(help="Extra weekly hours, ROLE[@REGION]=HOURS (repeatable)."),
    ] = None,
    currency: Annotated[str, typer.Option(help="Reporting currency.")] = "USD",
    band: Annotated[bool, typer.Option(help="Add P10/P50/P90 by Monte Carlo.")] = False,
    save: Annotated[bool, typer.Option(help="Store this run as a forecast version.")] = True,
    learn: Annotated[
        bool,
        typer.Option(
            help="Correct the bottom-up with what its own past forecasts got wrong (base "
            "scenario only; each correction is a contribution with its reason)."
        ),
    ] = True,
    known_now: KnownNowOption = False,
    bookings: Annotated[
        bool,
        typer.Option(
            "--bookings",
            help="Closed-won value over the horizon (3 months unless given) with its band, deals "
            "not yet created included: the forecast of a CRM-only firm.",
        ),
    ] = False,
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
    as_json: JsonOption = False,
    db: DbOption = None,
    analytics_path: AnalyticsOption = None,
) -> None:
    """Revenue forecast by month x dimensions: actuals, backlog and weighted pipeline."""
    dims = [d.strip() for d in by.split(",") if d.strip()]
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise fail(f"unknown dimension(s) {unknown}; choose from {list(DIMENSIONS)}")
    date = _as_of(as_of)
    analytics = _analytics(db, analytics_path)
    if bookings:
        from pssync.cli.bookings_cmds import print_bookings

        known = analytics.high_water_mark if known_now else None
        months = horizon if horizon != 12 else 3
        print_bookings(analytics, date, months, currency, known, as_json or output == "json")
        return
    snap = load_snapshot(analytics, date, analytics.high_water_mark if known_now else None)
    cal = calibrate(analytics, snap, currency)
    what_if = _scenario(scenario, probability_multiplier, shift_days, add_capacity or [])
    try:
        result = forecast_snapshot(
            snap,
            scenario=what_if,
            horizon=horizon,
            lookback=lookback,
            currency=currency,
            probability=cal.probability,
            overrun=cal.overrun_of,
            realisation=cal.realisation,
        )
    except LookupError as exc:  # a missing FX rate names the pair and the date
        raise fail(str(exc)) from None
    learned = None
    if (
        learn
        and what_if.name == "base"
        and not what_if.params()["added_capacity"]
        and (lookback == 0 and horizon > 1 and probability_multiplier == 1.0 and shift_days == 0)
    ):
        known_at = analytics.high_water_mark if known_now else None
        learned = learned_forecast(
            analytics, date, horizon=horizon - 1, currency=currency, known_at=known_at
        )
        result = learned.result
    version = save_version(analytics, result) if save else None
    rows = result.cells(by=dims)
    held = _held_back(db)
    if as_json or output == Format.JSON:
        payload: dict[str, Any] = {
            "as_of": str(date),
            "scenario": what_if.name,
            "params": what_if.params(),
            "currency": currency,
            "input_digest": result.input_digest,
            "version_id": version,
            "total": str(result.total()),
            "held_back": [line.as_dict() for line in held],
            "cells": [_jsonable(r) for r in rows],
            "placements": [
                {
                    "opportunity_id": p.deal_id,
                    "requested_start": str(p.requested_start),
                    "start": str(p.start),
                    "feasible": p.feasible,
                    "binding_roles": p.binding_roles,
                }
                for p in result.placements.values()
            ],
        }
        if band:
            bands = revenue_band(result, snap, cal)
            payload["band"] = {"horizon": _jsonable(bands.horizon.__dict__)}
        if learned is not None:
            payload["learned"] = {
                "blend_weight": round(learned.blend.weight, 3),
                "reasons": learned.reasons(),
                "next_quarter_bands": [_jsonable(b.__dict__) for b in learned.bands],
            }
        emit_json(payload)
    elif output == Format.CSV:
        writer = csv.DictWriter(
            sys.stdout, fieldnames=["month", *dims, "component", "revenue", "cost", "margin"]
        )
        writer.writeheader()
        writer.writerows(_jsonable(r) for r in rows)
    else:
        _print_table(rows, dims, f"forecast as of {date} ({what_if.name}, {currency})")
        console.print(f"total {result.total():,.2f} {currency}; version {version or '(not saved)'}")
        for line in held:
            console.print(
                f"held back by {line.category}: {line.deals} deals, open {line.open_amount:,.2f} "
                f"{line.currency} (weighted {line.weighted:,.2f}), not in the forecast until "
                "fixed and replayed",
                highlight=False,
            )
        if band:
            h = revenue_band(result, snap, cal).horizon
            console.print(f"horizon band: P10 {h.p10:,.2f}  P50 {h.p50:,.2f}  P90 {h.p90:,.2f}")
        if learned is not None:
            firm = learned.bands[-1]
            console.print(
                f"learned from past forecasts: {learned.blend.weight:.2f} weight on the "
                f"calibrated bottom-up; next quarter P10 {firm.p10:,.2f}  P50 {firm.p50:,.2f}  "
                f"P90 {firm.p90:,.2f} (see learned_* contributions for each reason)"
            )


def _backtest_dates(
    start: dt.datetime | None, end: dt.datetime | None, realised: dt.date, n: int
) -> list[dt.date]:
    if start is None and end is None:
        return last_realised_quarters(realised, n)
    if start is None or end is None:
        raise fail("give both --from and --to, or neither (the last fully realised quarters)")
    dates, month = [], month_start(start.date())
    while month_end(month) <= end.date():
        dates.append(month_end(month))
        month = add_months(month, 1)
    if not dates:
        raise fail("no month end between --from and --to")
    return dates


def _world(seed: int) -> tuple[AnalyticsStore, dt.date]:
    from pssync.forecast.bulkload import load_truth
    from pssync.sandbox.worlds import generate_world

    world = generate_world(seed)
    analytics = AnalyticsStore()
    load_truth(analytics, world.truth_lines())
    return analytics, world.today - dt.timedelta(days=1)


def backtest_command(
    start: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First as-of date (month ends)."),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last as-of date (month ends)."),
    ] = None,
    n_quarters: Annotated[
        int,
        typer.Option("--quarters", min=1, max=20, help="Without dates: last N realised quarters."),
    ] = 4,
    horizon: Annotated[int, typer.Option(min=1, max=24)] = 3,
    realised: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Actuals up to this date (default: today)."),
    ] = None,
    world: Annotated[
        int | None,
        typer.Option("--world", help="Backtest world SEED of the synthetic family instead."),
    ] = None,
    currency: str = "USD",
    known_now: KnownNowOption = False,
    bookings: Annotated[
        bool,
        typer.Option(
            "--bookings",
            help="Score the bookings forecast against closed-won value (a CRM-only firm has no "
            "recognised revenue to score against).",
        ),
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
    analytics_path: AnalyticsOption = None,
) -> None:
    """Scorecard: the forecast as of past dates vs what was later recognised, next to the
    run-rate and CRM baselines (default: the last four fully realised quarters)."""
    if world is not None:
        analytics, realised_as_of = _world(world)
        realised_as_of = realised.date() if realised else realised_as_of
    else:
        analytics, realised_as_of = _analytics(db, analytics_path), _as_of(realised)
    dates = _backtest_dates(start, end, realised_as_of, n_quarters)
    if bookings:
        from pssync.cli.bookings_cmds import print_bookings_backtest

        firsts = [d + dt.timedelta(days=1) for d in dates]  # each period's first day
        print_bookings_backtest(
            analytics, firsts, horizon, currency, realised_as_of, known_now, as_json
        )
        return
    run = backtest_run(
        analytics,
        dates,
        horizon=horizon,
        realised_as_of=realised_as_of,
        currency=currency,
        trust_valid_time=known_now,
    )
    if not run.realised_months:
        raise fail(
            f"no recognised revenue (RevenueEvent) up to {realised_as_of}: the backtest "
            "compares forecasts with recognised revenue, and this store has none (a CRM-only "
            "firm: score the bookings forecast with `pssync backtest --bookings`)"
        )
    if not any(p.actual for p in run.points):
        print(
            f"note: no revenue recognised in the months after {dates[0]} up to "
            f"{realised_as_of}; every forecast is scored against zero",
            file=sys.stderr,
        )
    card = build_scorecard(run)
    if as_json:
        emit_json(
            {
                **card,
                "as_of_dates": [str(d) for d in dates],
                "by_method_horizon": [
                    _jsonable(r) for r in score(run.points, by=("method", "horizon"))
                ],
                "by_method_service_line_horizon": [_jsonable(r) for r in score(run.points)],
            }
        )
        return
    print_scorecard(card)
