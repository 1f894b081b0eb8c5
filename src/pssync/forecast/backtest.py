"""Backtest: forecasts as of past dates against the revenue that was later recognised.

A forecast earns trust only by beating the simple alternatives finance already has, on the same
dates and the same actuals. For every as-of date T this runs the model as of T (facts valid and
known at T only, so no look-ahead) and, in the same pass, two baselines: the CRM's weighted
pipeline (stage probability x amount from the close date over a default duration) plus the same
backlog, and the finance run-rate (average of the three full months before T). Errors are
reported by method, service line and horizon (months after T's month) as WAPE and bias.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.components import Component
from pssync.forecast.learned import Learned, OriginCache, learned_forecast
from pssync.forecast.money import ZERO, cents
from pssync.forecast.origins import Realised
from pssync.forecast.sales_pipeline import DEFAULT_DURATION, spread_months
from pssync.forecast.scorecard import component_points
from pssync.forecast.scoring import METHODS, Key, Point, Run, quarters, score
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.planning.periods import add_months, as_of_instant, month_end, month_start


def realised(snap: Snapshot, currency: str) -> dict[Key, Decimal]:
    """Recognised revenue per month and service line, converted on the day it was recognised."""
    out: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for row in snap.actuals:
        amount = cents(snap.fx.convert(row.amount, row.currency, currency, row.day))
        out[(month_start(row.day), row.service_line_id)] += amount
    return dict(out)


def run_rate(snap: Snapshot, currency: str, months: Sequence[dt.date]) -> dict[Key, Decimal]:
    """The last three full months up to the as-of date, averaged, repeated forward."""
    last = month_start(snap.as_of)
    if snap.as_of != month_end(snap.as_of):
        last = add_months(last, -1)
    window = {add_months(last, -k) for k in (0, 1, 2)}
    totals: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    for (month, sl), amount in realised(snap, currency).items():
        if month in window:
            totals[sl] += amount
    return {(m, sl): cents(total / 3) for sl, total in totals.items() for m in months}


def crm_pipeline(
    snap: Snapshot, currency: str, duration: int = DEFAULT_DURATION
) -> dict[Key, Decimal]:
    """The CRM's own view: stage probability x amount, starting the day after the close date,
    over the deal's own duration when the CRM has one (else `duration` months)."""
    out: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for opp in snap.opportunities.values():
        if opp.is_closed:
            continue
        start = max(opp.close_date + dt.timedelta(days=1), snap.as_of + dt.timedelta(days=1))
        weighted = opp.amount.amount * opp.probability / 100
        months = opp.duration_months or duration
        for month, amount in spread_months(weighted, start, months).items():
            rate = snap.fx.rate(opp.amount.currency, currency, month)
            out[(month, opp.service_line_id)] += cents(amount * rate)
    return dict(out)


def _forecasts(
    analytics: AnalyticsStore,
    as_of: dt.date,
    horizon: int,
    currency: str,
    known_at: dt.datetime | None,
    cache: OriginCache,
) -> tuple[dict[str, dict[Key, Decimal]], Learned]:
    learned = learned_forecast(
        analytics, as_of, horizon=horizon, currency=currency, known_at=known_at, cache=cache
    )
    snap = learned.live.snapshot
    assert snap is not None
    model: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    bottom: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    backlog: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for c in learned.result.revenue:
        key = (c.month, c.dims.service_line_id)
        model[key] += c.revenue
        if not c.component.value.startswith("learned_"):
            bottom[key] += c.revenue
        if c.component in (Component.SCHEDULED_BACKLOG, Component.UNSCHEDULED_BACKLOG):
            backlog[key] += c.revenue
    crm = crm_pipeline(snap, currency)
    for key, value in backlog.items():
        crm[key] = crm.get(key, ZERO) + value
    months = [add_months(month_start(as_of), h) for h in range(1, horizon + 1)]
    return {
        "model": dict(model),
        "bottom_up": dict(bottom),
        "crm_pipeline": crm,
        "run_rate": run_rate(snap, currency, months),
    }, learned


def backtest(
    analytics: AnalyticsStore,
    as_of_dates: Sequence[dt.date],
    *,
    horizon: int = 3,
    realised_as_of: dt.date,
    realised_known_at: dt.datetime | None = None,
    currency: str = "USD",
    trust_valid_time: bool = False,
) -> list[Point]:
    """Forecast vs realised for each as-of date and each of the `horizon` following months.

    Realised revenue is read as known now (the mirror's high-water mark), so restatements
    recorded after the realised date count: the truth is the best knowledge, the forecasts
    only what was known at their T. `trust_valid_time` reads each T's facts as known now
    (valid time still cuts at T): only for history bulk-loaded after the fact, whose recorded
    times say nothing about when it was known; it admits late corrections (look-ahead).
    """
    return backtest_run(
        analytics,
        as_of_dates,
        horizon=horizon,
        realised_as_of=realised_as_of,
        realised_known_at=realised_known_at,
        currency=currency,
        trust_valid_time=trust_valid_time,
    ).points


def backtest_run(
    analytics: AnalyticsStore,
    as_of_dates: Sequence[dt.date],
    *,
    horizon: int = 3,
    realised_as_of: dt.date,
    realised_known_at: dt.datetime | None = None,
    currency: str = "USD",
    trust_valid_time: bool = False,
) -> Run:
    """`backtest` with the learned forecast's bands, its learning, and component points."""
    known = realised_known_at or max(as_of_instant(realised_as_of), analytics.high_water_mark)
    realised_snap = load_snapshot(analytics, realised_as_of, known, invoices=False)
    actual = realised(realised_snap, currency)
    truth = Realised.of(realised_snap, currency)
    known_at = known if trust_valid_time else None
    cache = OriginCache(analytics, horizon, currency, known_at)
    run = Run(realised_months=len({m for (m, _sl) in actual}))
    for as_of in sorted(as_of_dates):
        months = [add_months(month_start(as_of), h) for h in range(1, horizon + 1)]
        forecasts, learned = _forecasts(analytics, as_of, horizon, currency, known_at, cache)
        run.learned[as_of] = learned
        run.components.extend(component_points(learned, truth, horizon))
        lines = {sl for (m, sl) in actual if m in months}
        for method in METHODS:
            lines |= {sl for (m, sl) in forecasts[method] if m in months}
        for h, month in enumerate(months, start=1):
            if month > month_start(realised_as_of):
                continue
            for sl in sorted(lines, key=str):
                for method in METHODS:
                    f = forecasts[method].get((month, sl), ZERO)
                    run.points.append(
                        Point(method, as_of, h, month, sl, f, actual.get((month, sl), ZERO))
                    )
        quarter = months[:3]
        if len(quarter) == 3 and month_end(quarter[-1]) <= realised_as_of:
            for band in learned.bands:
                a = sum(
                    (
                        v
                        for (m, sl), v in actual.items()
                        if m in quarter and (band.service_line is None or sl == band.service_line)
                    ),
                    ZERO,
                )
                run.bands.append((as_of, band, a))
    return run


def last_realised_quarters(realised_as_of: dt.date, n: int = 4) -> list[dt.date]:
    """The last `n` quarter ends T whose next three months are recognised by `realised_as_of`."""
    month = add_months(month_start(realised_as_of), -3)
    if realised_as_of != month_end(realised_as_of):
        month = add_months(month, -1)
    while month.month % 3:
        month = add_months(month, -1)
    return [month_end(add_months(month, -3 * k)) for k in range(n)][::-1]


__all__ = ["METHODS", "Point", "Run", "backtest", "backtest_run", "quarters", "score"]
