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

from pssync.cli.output import console, emit_json, fail, open_store, settings
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backtest import backtest, score
from pssync.forecast.calibration import calibrate
from pssync.forecast.components import Component
from pssync.forecast.engine import DIMENSIONS, Scenario, forecast_snapshot
from pssync.forecast.montecarlo import revenue_band
from pssync.forecast.periods import add_months, month_end, month_start
from pssync.forecast.snapshot import load_snapshot
from pssync.forecast.versions import save_version
from pssync.kpi import (
    conversion_time,
    milestone_adherence,
    project_code_sla,
    start_variance,
)

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
    components = [c.value for c in Component]
    for column in [*components, "total", "margin"]:
        table.add_column(column.replace("_", " "), justify="right")
    for key, values in sorted(pivot.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        total = sum((values[c] for c in components), Decimal(0))
        cells = [f"{values[c]:,.2f}" for c in components]
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
    known_now: KnownNowOption = False,
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
    version = save_version(analytics, result) if save else None
    rows = result.cells(by=dims)
    if as_json or output == Format.JSON:
        payload: dict[str, Any] = {
            "as_of": str(date),
            "scenario": what_if.name,
            "params": what_if.params(),
            "currency": currency,
            "input_digest": result.input_digest,
            "version_id": version,
            "total": str(result.total()),
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
        if band:
            h = revenue_band(result, snap, cal).horizon
            console.print(f"horizon band: P10 {h.p10:,.2f}  P50 {h.p50:,.2f}  P90 {h.p90:,.2f}")


def backtest_command(
    start: Annotated[
        dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First as-of date.")
    ],
    end: Annotated[
        dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last as-of date.")
    ],
    horizon: Annotated[int, typer.Option(min=1, max=24)] = 3,
    realised: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Actuals up to this date (default: today)."),
    ] = None,
    currency: str = "USD",
    known_now: KnownNowOption = False,
    as_json: JsonOption = False,
    db: DbOption = None,
    analytics_path: AnalyticsOption = None,
) -> None:
    """Forecast as of each month end in [--from, --to] vs what was later recognised."""
    dates, month = [], month_start(start.date())
    while month_end(month) <= end.date():
        dates.append(month_end(month))
        month = add_months(month, 1)
    if not dates:
        raise fail("no month end between --from and --to")
    analytics = _analytics(db, analytics_path)
    points = backtest(
        analytics,
        dates,
        horizon=horizon,
        realised_as_of=_as_of(realised),
        currency=currency,
        trust_valid_time=known_now,
    )
    rows = score(points, by=("method", "horizon"))
    detail = score(points)
    if as_json:
        emit_json(
            {
                "as_of_dates": [str(d) for d in dates],
                "by_method_horizon": [_jsonable(r) for r in rows],
                "by_method_service_line_horizon": [_jsonable(r) for r in detail],
            }
        )
        return
    table = Table(title=f"backtest {dates[0]} .. {dates[-1]} (WAPE, bias)")
    for column in ("method", "horizon", "n", "forecast", "actual", "WAPE", "bias"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for r in rows:
        table.add_row(
            r["method"],
            str(r["horizon"]),
            str(r["n"]),
            f"{r['forecast']:,.2f}",
            f"{r['actual']:,.2f}",
            str(r["wape"]),
            str(r["bias"]),
        )
    console.print(table)


def kpis_command(
    as_of: AsOfOption = None,
    sla_days: Annotated[int, typer.Option(help="Days allowed from win to coded ERP project.")] = 5,
    as_json: JsonOption = False,
    db: DbOption = None,
    analytics_path: AnalyticsOption = None,
) -> None:
    """Handoff and delivery KPIs as of a date."""
    date = _as_of(as_of)
    analytics = _analytics(db, analytics_path)
    starts = start_variance(analytics, date)
    result = {
        "as_of": str(date),
        "conversion_time": conversion_time(analytics, date),
        "project_code_sla": project_code_sla(analytics, date, sla_days),
        "start_variance": {k: v for k, v in starts.items() if k != "projects"},
        "milestone_adherence": milestone_adherence(analytics, date),
    }
    if as_json:
        emit_json(result)
        return
    table = Table(title=f"KPIs as of {date}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for name, values in result.items():
        if isinstance(values, dict):
            table.add_row(name.replace("_", " "), ", ".join(f"{k}={v}" for k, v in values.items()))
    console.print(table)
