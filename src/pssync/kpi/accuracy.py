"""Accuracy KPIs: how stored forecasts compared with what was later recognised and worked.

Both read the forecast's own stored outputs (a version, or a utilization forecast as of T) and
the actuals as known now, so they measure the forecast that was published, not a re-run.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backtest import realised
from pssync.forecast.money import ZERO
from pssync.forecast.run import run_forecast
from pssync.forecast.snapshot import load_snapshot
from pssync.forecast.versions import get_version, version_cells
from pssync.planning.periods import as_of_instant, month_start


def forecast_variance(
    analytics: AnalyticsStore, version_id: str, realised_as_of: dt.date
) -> list[dict[str, Any]]:
    """Per service line: stored forecast vs recognised revenue over the months both cover.

    Months after the version's as-of month and up to the last full month of realised data.
    """
    info = get_version(analytics, version_id)
    known = max(as_of_instant(realised_as_of), analytics.high_water_mark)
    actual = realised(load_snapshot(analytics, realised_as_of, known), info.currency)
    last = month_start(realised_as_of)
    forecast: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    months = set()
    for cell in version_cells(analytics, version_id, by=("service_line",)):
        if month_start(info.as_of) < cell["month"] <= last:
            forecast[cell["service_line"]] += cell["revenue"]
            months.add(cell["month"])
    got: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    for (month, sl), amount in actual.items():
        if month in months:
            got[sl] += amount
    rows = []
    for sl in sorted(set(forecast) | set(got), key=str):
        f, a = forecast.get(sl, ZERO), got.get(sl, ZERO)
        rows.append(
            {
                "service_line": sl,
                "forecast": f,
                "actual": a,
                "variance": a - f,
                "variance_pct": ((a - f) / f).quantize(Decimal("0.0001")) if f else None,
            }
        )
    return rows


_HOURS_SQL = """
SELECT date_trunc('month', te.work_date)::DATE, coalesce(te.role_id, r.role_id), r.region_id,
       sum(te.hours)
FROM time_entry te LEFT JOIN resource r ON r.id = te.resource_id
WHERE te.billable AND te.work_date <= $until GROUP BY ALL
"""


def utilization_accuracy(
    analytics: AnalyticsStore, forecast_as_of: dt.date, realised_as_of: dt.date
) -> dict[str, Any]:
    """1 - WAPE of booked (billable) hours forecast at T vs hours actually logged, by month x
    role x region, over full months after T's month up to the realised date."""
    result = run_forecast(analytics, forecast_as_of, horizon=24, calibrated=False)
    forecast = {
        (u.month, u.role_id, u.region_id): u.booked_hours
        for u in result.utilization
        if month_start(forecast_as_of) < u.month <= month_start(realised_as_of)
    }
    known = max(as_of_instant(realised_as_of), analytics.high_water_mark)
    analytics.materialize(realised_as_of, known)
    actual = {
        (r[0], r[1], r[2]): float(r[3])
        for r in analytics.con.execute(_HOURS_SQL, {"until": realised_as_of}).fetchall()
        if month_start(forecast_as_of) < r[0] <= month_start(realised_as_of)
    }
    keys = set(forecast) | set(actual)
    error = sum(abs(forecast.get(k, 0.0) - actual.get(k, 0.0)) for k in keys)
    total = sum(actual.values())
    return {
        "cells": len(keys),
        "forecast_hours": round(sum(forecast.values()), 2),
        "actual_hours": round(total, 2),
        "accuracy": round(1 - error / total, 4) if total else None,
    }
