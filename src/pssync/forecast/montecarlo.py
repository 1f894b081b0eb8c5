"""Uncertainty: P10 / P50 / P90 by vectorised Monte Carlo over wins, slippage and overruns.

The deterministic forecast weights each deal by its probability; reality is lumpier: a deal is
won or not, closes late, and fixed-fee work overruns. Each simulation draws, for every open deal
at once (numpy arrays of simulations x deals), a win with its calibrated probability and a
delay from the Kaplan-Meier slippage curve (given how overdue it already is), and stretches the
unscheduled backlog by a lognormal overrun around the calibrated ratio. Only actuals are
certain: backlog still to be worked, booked or not, is delivered each month at a lognormal
factor around 1 whose spread is how far the firm's monthly delivery strayed from its bookings
(`Calibration.delivery_spread`), so a month not yet realised never has P10 = P50 = P90. The
factor is firm-wide per month, as that spread was measured. Floats are fine here: the output
is a band, rounded to cents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.calibration import Calibration, calibrate
from pssync.forecast.components import Component
from pssync.forecast.money import cents
from pssync.forecast.run import ForecastResult, forecast_snapshot
from pssync.forecast.sales_pipeline import DEFAULT_DURATION
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.planning.periods import month_start, months_between

Matrix = npt.NDArray[np.float64]
DAYS_PER_MONTH = 30.44
QUANTILES = (10, 50, 90)
MIN_DELIVERY_SIGMA = 0.01  # a history without a wobble still leaves future months uncertain


@dataclass(frozen=True)
class Band:
    p10: Decimal
    p50: Decimal
    p90: Decimal
    mean: Decimal

    @classmethod
    def of(cls, draws: npt.NDArray[np.float64]) -> Band:
        q = np.percentile(draws, QUANTILES)
        return cls(*(cents(Decimal(repr(float(v)))) for v in (*q, draws.mean())))


@dataclass(frozen=True)
class BandReport:
    by_month: dict[dt.date, Band]
    horizon: Band
    by_service_line: dict[str | None, Band]


@dataclass
class DealDraws:
    """Per simulation and open deal: won (0/1) and extra delay in whole months."""

    deal_ids: list[str]
    won: Matrix
    delay_months: npt.NDArray[np.int64]


def draw_deals(
    snap: Snapshot, cal: Calibration, n: int, seed: int, multiplier: Decimal = Decimal(1)
) -> DealDraws:
    rng = np.random.default_rng(seed)
    deals = sorted((o for o in snap.opportunities.values() if not o.is_closed), key=lambda o: o.id)
    p = np.array([min(float(cal.probability(o) * multiplier), 1.0) for o in deals])
    won = (rng.random((n, len(deals))) < p).astype(np.float64)
    delay = np.zeros((n, len(deals)), dtype=np.int64)
    for j, opp in enumerate(deals):
        overdue = float(max((snap.as_of - opp.close_date).days, 0))
        extra = cal.slippage.sample(rng, n, at_least=overdue) - overdue
        delay[:, j] = np.rint(extra / DAYS_PER_MONTH).astype(np.int64)
    return DealDraws([o.id for o in deals], won, delay)


def _spread(
    out: Matrix, rows: npt.NDArray[np.int64], start: npt.NDArray[np.int64], per: Matrix, k: int
) -> None:
    idx = start + k
    keep = (idx >= 0) & (idx < out.shape[1])
    np.add.at(out, (rows[keep], idx[keep]), per[keep])


def _sigma(given: float | None, cal: Calibration, fallback: float) -> float:
    if given is not None:
        return given
    seen = cal.delivery_spread
    return fallback if seen is None else max(seen, MIN_DELIVERY_SIGMA)


def _delivery(n: int, n_months: int, seed: int, sigma: float) -> Matrix:
    """Per simulation and month: delivered / forecast backlog, lognormal with mean 1."""
    rng = np.random.default_rng(seed + 2)
    return rng.lognormal(-sigma * sigma / 2, sigma, (n, n_months))


def revenue_band(
    result: ForecastResult,
    snap: Snapshot,
    cal: Calibration,
    *,
    n: int = 2000,
    seed: int = 7,
    overrun_sigma: float = 0.15,
    delivery_sigma: float | None = None,
) -> BandReport:
    """Bands of revenue per month and for the whole horizon, and per service line.

    `delivery_sigma` is the log spread of a month's delivered backlog; by default the
    calibrated one, else (no bookings and time seen) `overrun_sigma`."""
    months = result.months
    index = {m: i for i, m in enumerate(months)}
    groups: dict[str | None, Matrix] = defaultdict(lambda: np.zeros((n, len(months))))
    rng = np.random.default_rng(seed + 1)
    stretch_by_sl: dict[str | None, Matrix] = {}
    first_forecast = index.get(month_start(snap.as_of), 0)
    rows = np.arange(n, dtype=np.int64)
    delivered = _delivery(n, len(months), seed, _sigma(delivery_sigma, cal, overrun_sigma))
    for c in result.revenue:
        sl, i, value = c.dims.service_line_id, index[c.month], float(c.revenue)
        if c.component == Component.ACTUALS:
            groups[sl][:, i] += value
        elif c.component == Component.SCHEDULED_BACKLOG:
            groups[sl][:, i] += value * delivered[:, i]
        elif c.component == Component.UNSCHEDULED_BACKLOG:
            if sl not in stretch_by_sl:
                mu = np.log(float(cal.overrun_of(sl)))
                stretch_by_sl[sl] = np.maximum(rng.lognormal(mu, overrun_sigma, n), 1.0)
            pos = first_forecast + (i - first_forecast + 0.5) * stretch_by_sl[sl]
            target = np.floor(pos).astype(np.int64)
            keep = target < len(months)
            np.add.at(
                groups[sl], (rows[keep], target[keep]), value * delivered[rows[keep], target[keep]]
            )
    draws = draw_deals(snap, cal, n, seed, result.scenario.probability_multiplier)
    for j, deal_id in enumerate(draws.deal_ids):
        placement = result.placements.get(deal_id)
        opp = snap.opportunities[deal_id]
        if placement is None:
            continue
        duration = opp.duration_months or DEFAULT_DURATION
        amount = snap.fx.convert(
            opp.amount.amount, opp.amount.currency, result.currency, month_start(placement.start)
        )
        per = draws.won[:, j] * float(amount) / duration
        start = months_between(months[0], placement.start) + draws.delay_months[:, j]
        for k in range(duration):
            _spread(groups[opp.service_line_id], rows, start, per, k)
    total = sum(groups.values(), np.zeros((n, len(months))))
    lines = sorted(groups.items(), key=lambda kv: str(kv[0]))
    return BandReport(
        by_month={m: Band.of(total[:, i]) for i, m in enumerate(months)},
        horizon=Band.of(total.sum(axis=1)),
        by_service_line={sl: Band.of(g.sum(axis=1)) for sl, g in lines},
    )


def quarter_of(month: dt.date) -> str:
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


def quarter_bands(result: ForecastResult, snap: Snapshot, cal: Calibration) -> list[dict[str, Any]]:
    """P10/P50/P90 per quarter. Percentiles do not add up across months, so each quarter is
    its own Monte Carlo run over just its months; the same seed draws the same deals, so the
    quarters describe one set of simulated futures."""
    quarters: dict[str, list[dt.date]] = {}
    for month in result.months:
        quarters.setdefault(quarter_of(month), []).append(month)
    rows = []
    for name, months in quarters.items():
        inside = [c for c in result.revenue if c.month in months]
        part = dataclasses.replace(result, months=months, revenue=inside)
        band = revenue_band(part, snap, cal).horizon
        rows.append(
            {
                "quarter": name,
                "forecast": result.total(months=months),
                "p10": band.p10,
                "p50": band.p50,
                "p90": band.p90,
            }
        )
    return rows


def bands_as_of(
    analytics: AnalyticsStore,
    as_of: dt.date,
    *,
    horizon: int = 12,
    currency: str = "USD",
    known_at: dt.datetime | None = None,
) -> tuple[ForecastResult, list[dict[str, Any]]]:
    """The calibrated bottom-up forecast as of `as_of` and its quarter bands: what the demo,
    the family bench and the band tests show, read and calibrated the one way."""
    snap = load_snapshot(analytics, as_of, known_at)
    cal = calibrate(analytics, snap, currency)
    result = forecast_snapshot(
        snap,
        horizon=horizon,
        currency=currency,
        probability=cal.probability,
        overrun=cal.overrun_of,
        realisation=cal.realisation,
    )
    return result, quarter_bands(result, snap, cal)
