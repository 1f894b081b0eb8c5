"""What the data is for: the forecast and the six KPIs on the synced store vs on the truth.

Both sides run the same code on an analytics mirror: the synced one mirrors the golden store,
the truth one is the canonical truth loaded at valid time (`load_truth`). The forecast is
compared per component and in total as of one date; the KPIs as the headline number of each
(days for the time KPIs, shares for the rest), with the tolerance the acceptance uses: one day,
or two points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.components import Component
from pssync.forecast.money import ZERO
from pssync.forecast.run import run_forecast
from pssync.forecast.versions import save_version
from pssync.kpi import (
    conversion_time,
    forecast_variance,
    milestone_adherence,
    project_code_sla,
    start_variance,
    utilization_accuracy,
)

FORECAST_TOLERANCE = Decimal("0.01")  # 1% of the truth's figure
#: How far back the accuracy KPIs' forecast is made (a quarter), realised at the as-of date.
ACCURACY_LOOKBACK = dt.timedelta(days=91)


def _known(analytics: AnalyticsStore, known_now: bool) -> dt.datetime | None:
    """What the as-of date reads: as known then (None), or with all known now (`--known-now`)."""
    return analytics.high_water_mark if known_now else None


def forecast_components(
    analytics: AnalyticsStore,
    as_of: dt.date,
    currency: str,
    horizon: int,
    known_at: dt.datetime | None = None,
) -> dict[str, Decimal]:
    result = run_forecast(analytics, as_of, horizon=horizon, currency=currency, known_at=known_at)
    out = {c.value: result.total(c) for c in Component}
    out["total"] = result.total()
    return out


def _share(diff: Decimal, base: Decimal) -> Decimal | None:
    return abs(diff) / abs(base) if base else (None if diff else ZERO)


def compare_forecast(
    synced: AnalyticsStore,
    truth: AnalyticsStore,
    as_of: dt.date,
    currency: str = "USD",
    horizon: int = 12,
    known_now: bool = False,
    truth_without_held: AnalyticsStore | None = None,
) -> dict[str, Any]:
    """Per component, synced vs truth. With `truth_without_held` (the truth less the records
    open exceptions hold back), also how much of the gap those exceptions explain: the rest,
    `unexplained`, is what pssync itself got wrong. The verdict stays on the whole truth."""
    got = forecast_components(synced, as_of, currency, horizon, _known(synced, known_now))
    want = forecast_components(truth, as_of, currency, horizon, _known(truth, known_now))
    less = (
        None
        if truth_without_held is None
        else forecast_components(
            truth_without_held, as_of, currency, horizon, _known(truth_without_held, known_now)
        )
    )
    rows = {}
    for name in want:
        diff = got[name] - want[name]
        share = _share(diff, want[name])
        rows[name] = {
            "synced": str(got[name]),
            "truth": str(want[name]),
            "difference": str(diff),
            "relative": None if share is None else float(round(share, 4)),
            "within_1pct": share is not None and share <= FORECAST_TOLERANCE,
        }
        if less is not None:
            rest = _share(got[name] - less[name], less[name])
            rows[name] |= {
                "held_back": str(want[name] - less[name]),
                "unexplained": str(got[name] - less[name]),
                "unexplained_relative": None if rest is None else float(round(rest, 4)),
            }
    return {
        "as_of": str(as_of),
        "known_now": known_now,
        "currency": currency,
        "horizon_months": horizon,
        **rows,
    }


def _variance_pct(analytics: AnalyticsStore, as_of: dt.date, currency: str) -> float | None:
    """Realised vs forecast over the quarter since a forecast made `ACCURACY_LOOKBACK` ago."""
    then = as_of - ACCURACY_LOOKBACK
    version = save_version(analytics, run_forecast(analytics, then, horizon=6, currency=currency))
    rows = forecast_variance(analytics, version, as_of)
    forecast = sum((r["forecast"] for r in rows), ZERO)
    actual = sum((r["actual"] for r in rows), ZERO)
    return float(round((actual - forecast) / forecast, 4)) if forecast else None


#: KPI -> (how to compute its headline number, unit). Units: "days" (tolerance 1) or "share"
#: (tolerance 0.02, two points).
#: The delivery KPIs read the as-of date as known then or with all known now (`known_at`); the
#: accuracy KPIs compare a forecast with what was realised, known now either way.
Compute = Callable[[AnalyticsStore, dt.date, str, dt.datetime | None], Any]
KPIS: dict[str, tuple[Compute, str]] = {
    "conversion_time": (lambda a, d, c, k: conversion_time(a, d, k)["median_days"], "days"),
    "project_code_sla": (
        lambda a, d, c, k: project_code_sla(a, d, known_at=k)["share"],
        "share",
    ),
    "start_variance": (lambda a, d, c, k: start_variance(a, d, k)["mean_days"], "days"),
    "milestone_adherence": (
        lambda a, d, c, k: milestone_adherence(a, d, known_at=k)["share"],
        "share",
    ),
    "forecast_variance": (lambda a, d, c, k: _variance_pct(a, d, c), "share"),
    "utilization_accuracy": (
        lambda a, d, c, k: utilization_accuracy(a, d - ACCURACY_LOOKBACK, d)["accuracy"],
        "share",
    ),
}
TOLERANCE = {"days": 1.0, "share": 0.02}


def compare_kpis(
    synced: AnalyticsStore,
    truth: AnalyticsStore,
    as_of: dt.date,
    currency: str = "USD",
    known_now: bool = False,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (compute, unit) in KPIS.items():
        got = compute(synced, as_of, currency, _known(synced, known_now))
        want = compute(truth, as_of, currency, _known(truth, known_now))
        close = (
            got is not None
            and want is not None
            and abs(float(got) - float(want)) <= TOLERANCE[unit]
        )
        out[name] = {"synced": got, "truth": want, "unit": unit, "within_tolerance": close}
    return out
