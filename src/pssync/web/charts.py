"""Plotly figure specs (plain JSON) built on the server from forecast cells, bands and KPIs.

The browser only draws them (static/app.js); no numbers are computed in JavaScript, so what
the chart shows is exactly what the API returns.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pssync.forecast.components import Component

COLORS = {
    Component.ACTUALS.value: "#2f5d8a",
    Component.SCHEDULED_BACKLOG.value: "#4f9d69",
    Component.UNSCHEDULED_BACKLOG.value: "#a6c36f",
    Component.WEIGHTED_PIPELINE.value: "#e0a030",
}
LAYOUT = {
    "barmode": "stack",
    "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
    "legend": {"orientation": "h"},
    "yaxis": {"title": {"text": "revenue"}, "tickformat": ",.0f"},
    "hovermode": "x unified",
}


def forecast_figure(cells: list[dict[str, Any]], bands: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars per component by month, with the P10-P90 band and P50 as lines."""
    months = sorted({c["month"] for c in cells} | {b["month"] for b in bands})
    by: dict[str, dict[Any, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for c in cells:
        by[c["component"]][c["month"]] += c["revenue"]
    x = [m.isoformat() for m in months]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": comp.replace("_", " "),
            "x": x,
            "y": [float(by[comp][m]) for m in months],
            "customdata": [[m.isoformat(), comp] for m in months],
            "marker": {"color": color},
        }
        for comp, color in COLORS.items()
        if comp in by
    ]
    if bands:
        bx = [b["month"].isoformat() for b in bands]
        traces += [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "P10",
                "x": bx,
                "y": [float(b["p10"]) for b in bands],
                "line": {"color": "#777", "width": 1},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "P10-P90",
                "x": bx,
                "y": [float(b["p90"]) for b in bands],
                "fill": "tonexty",
                "fillcolor": "rgba(120,120,120,0.15)",
                "line": {"color": "#777", "width": 1},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "P50",
                "x": bx,
                "y": [float(b["p50"]) for b in bands],
                "line": {"color": "#222", "dash": "dash"},
            },
        ]
    return {"data": traces, "layout": LAYOUT}


def compare_figure(rows: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """One line per version: total revenue by month."""
    totals: dict[str, dict[Any, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        for version_id, value in row["values"].items():
            totals[version_id][row["month"]] += value
    months = sorted({r["month"] for r in rows})
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": labels.get(v, v),
            "x": [m.isoformat() for m in months],
            "y": [float(totals[v][m]) for m in months],
        }
        for v in labels
    ]
    layout = {**LAYOUT, "barmode": "group"}
    return {"data": traces, "layout": layout}


def sparkline(points: list[Any], unit: str) -> dict[str, Any]:
    """The KPI at each past as-of date that had a value (percent as 0-100)."""
    scale, suffix = (100.0, "%") if unit == "percent" else (1.0, " d")
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [p.as_of.isoformat() for p in points],
                "y": [round(p.value * scale, 1) for p in points],
                "text": [p.display for p in points],
                "hovertemplate": "%{x}: %{text}<extra></extra>",
                "line": {"color": "#2f5d8a"},
            }
        ],
        "layout": {
            "margin": {"l": 40, "r": 10, "t": 5, "b": 25},
            "height": 90,
            "showlegend": False,
            "xaxis": {"tickformat": "%b %y", "nticks": 4},
            "yaxis": {"ticksuffix": suffix, "nticks": 3},
        },
    }
