"""The backtest scorecard as tables: each method side by side, then components and the band."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.table import Table

from pssync.cli.output import console
from pssync.forecast.backtest import METHODS


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1%}"


def _side_by_side(card: dict[str, Any], key: str, by: str, title: str) -> None:
    rows: dict[Any, dict[str, Any]] = defaultdict(dict)
    for r in card[key]:
        rows[r[by]][r["method"]] = r
    table = Table(title=title)
    table.add_column(by.replace("_", " "))
    for method in METHODS:
        table.add_column(f"{method.replace('_', ' ')} WAPE / bias", justify="right")
    for value, methods in sorted(rows.items(), key=lambda kv: str(kv[0])):
        cells = [methods.get(m, {}) for m in METHODS]
        table.add_row(
            str(value or "-"), *(f"{_pct(c.get('wape'))} / {_pct(c.get('bias'))}" for c in cells)
        )
    console.print(table)


def print_scorecard(card: dict[str, Any]) -> None:
    dates = card["as_of_dates"]
    table = Table(title=f"next quarter, as of {dates[0]} .. {dates[-1]}")
    for column in ("method", "WAPE by line", "bias", "firm-total error"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for r in card["next_quarter"]:
        error = card["firm_total_error"].get(r["method"])
        table.add_row(r["method"], _pct(r["wape"]), _pct(r["bias"]), _pct(error))
    console.print(table)
    _side_by_side(card, "by_service_line", "service_line", "next quarter by service line")
    _side_by_side(card, "by_horizon", "horizon", "by month after the as-of month")
    table = Table(title="model components vs the revenue their records later earned")
    for column in ("component", "actual", "bottom-up WAPE / bias", "calibrated WAPE / bias"):
        table.add_column(column, justify="left" if column == "component" else "right")
    for r in card["by_component"]:
        table.add_row(
            r["component"],
            f"{r['actual']:,.0f}",
            f"{_pct(r['bottom_up_wape'])} / {_pct(r['bottom_up_bias'])}",
            f"{_pct(r['calibrated_wape'])} / {_pct(r['calibrated_bias'])}",
        )
    console.print(table)
    cov = card["band_coverage"]
    console.print(
        f"P10-P90 band: {_pct(cov['line_coverage'])} of {cov['line_quarters']} line quarters, "
        f"{_pct(cov['firm_coverage'])} of {cov['firm_quarters']} firm quarters inside"
    )
    learned = card["learned"]
    console.print(
        f"learned as of {learned['as_of']}: {learned['blend_weight']} weight on the calibrated "
        f"bottom-up ({learned['blend_quarters']} past quarters), "
        f"{len(learned['factors'])} conversion factors, firm total x "
        f"{learned['firm_bias_factor']} for its bias ({learned['firm_bias_quarters']} quarters)"
    )
