"""The forecast that learns from its own past: bottom-up, corrected, blended, with a band.

`learned_forecast` runs the bottom-up model as of T, then, from past origins only (facts known
at each origin, revenue realised by T), learns how each component converts to revenue month
by month, how much new work arrives per line, and how much weight the top-down seasonal
and flat run-rates deserve, and how far the firm's summed forecast has been off (learning.py): the
firm total is corrected by that learned bias and every line reconciled to it in proportion.
Each correction is added as its own contribution with its
reason (`Component.LEARNED_*`), so the forecast still reconciles to its lineage: bottom-up
contributions + learned adjustments = total. The P10-P90 band of each line's next quarter
comes from the same nested backtests' errors (log forecast/actual), widened for their number.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.components import Component, Contribution, Dims
from pssync.forecast.learning import Bias, Blend, Fit, fit, learn_bias, learn_blend, season
from pssync.forecast.money import cents
from pssync.forecast.origin_store import OriginStore, state_key
from pssync.forecast.origins import NEW, OriginView, Realised, origin_view
from pssync.forecast.run import ForecastResult
from pssync.planning.periods import add_months, month_end, month_start, months_between

LEARN_MONTHS = 24  # monthly origins looked back on
Z90 = 1.2816  # standard normal 90th percentile
FALLBACK_SIGMA = 0.25  # log-error spread when fewer than MIN_RESIDUALS were seen
MIN_RESIDUALS = 4
MIN_SPREAD = 0.03


class OriginCache:
    """Origin views by date: one origin serves every later as-of date of a backtest. With
    `persist`, views are also kept in the analytics file for the same mirror state and code
    (origin_store.py), so a second `pssync forecast` does not forecast 24 origins again."""

    def __init__(
        self,
        analytics: AnalyticsStore,
        horizon: int,
        currency: str = "USD",
        known_at: dt.datetime | None = None,
        persist: bool = False,
    ) -> None:
        self.analytics, self.horizon, self.currency, self.known_at = (
            analytics,
            horizon,
            currency,
            known_at,
        )
        self.views: dict[dt.date, OriginView] = {}
        self.store = (
            OriginStore(analytics, state_key(analytics, horizon, currency, known_at))
            if persist
            else None
        )

    def get(self, as_of: dt.date) -> OriginView:
        view = self.views.get(as_of)
        if view is None and self.store is not None:
            view = self.store.get(as_of)
        if view is None:
            view = origin_view(
                self.analytics,
                as_of,
                horizon=self.horizon,
                currency=self.currency,
                known_at=self.known_at,
            )
            if self.store is not None:
                self.store.put(view)
        self.views[as_of] = view
        return view


def origin_dates(as_of: dt.date, months: int = LEARN_MONTHS) -> list[dt.date]:
    """Month ends before T's last full month, most recent last (each with something realised)."""
    last = month_start(as_of) if as_of == month_end(as_of) else add_months(month_start(as_of), -1)
    return [month_end(add_months(last, -k)) for k in range(months, 0, -1)]


@dataclass(frozen=True)
class QuarterBand:
    service_line: str | None  # None: the firm
    first_month: dt.date
    p10: Decimal
    p50: Decimal
    p90: Decimal


@dataclass
class Learned:
    result: ForecastResult  # bottom-up contributions + learned adjustments
    bottom_up: ForecastResult
    fit: Fit
    blend: Blend
    live: OriginView
    bias: Bias = field(default_factory=lambda: Bias(0.0, 0.0, []))
    bands: list[QuarterBand] = field(default_factory=list)
    spread: dict[str, tuple[float, float, int]] = field(default_factory=dict)  # mu, sigma, n

    def reasons(self) -> list[str]:
        return sorted({c.reason for c in self.result.revenue if c.reason})


def _spread(errors: list[float]) -> tuple[float, float, int]:
    if len(errors) < MIN_RESIDUALS:
        return 0.0, FALLBACK_SIGMA, len(errors)
    mu, sigma = statistics.fmean(errors), statistics.stdev(errors)
    return mu, max(MIN_SPREAD, sigma * math.sqrt(1 + 1 / len(errors))), len(errors)


def _log_errors(blend: Blend, firm: bool) -> list[float]:
    if not firm:
        return [math.log(a / f) for _o, _sl, f, a in blend.residuals if a > 0 and f > 0]
    by_origin: dict[dt.date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for origin, _sl, f, a in blend.residuals:
        by_origin[origin][0] += f
        by_origin[origin][1] += a
    return [math.log(a / f) for f, a in by_origin.values() if a > 0 and f > 0]


def _band(sl: str | None, first: dt.date, p50: Decimal, mu: float, sigma: float) -> QuarterBand:
    low = p50 * Decimal(str(round(math.exp(mu - Z90 * sigma), 6)))
    high = p50 * Decimal(str(round(math.exp(mu + Z90 * sigma), 6)))
    low, high = min(low, p50 * Decimal("0.99")), max(high, p50 * Decimal("1.01"))
    return QuarterBand(sl, first, cents(low), cents(p50), cents(high))


def _learned(
    month: dt.date, component: Component, dims: Dims, amount: Decimal, reason: str, what: str = ""
) -> Contribution:
    source = f"learned:{what or component.value.removeprefix('learned_')}"
    return Contribution(month, component, dims, source, amount, reason=reason)


def _adjustments(live: OriginView, learned: Fit, blend: Blend, horizon: int) -> list[Contribution]:
    """Learned corrections as contributions, each saying why it is there."""
    assert live.result is not None
    base = month_start(live.as_of)
    w = blend.weight
    out: list[Contribution] = []
    x: dict[tuple[int, Dims, str], float] = defaultdict(float)  # bottom-up by month, group
    total: dict[tuple[Dims, str], float] = defaultdict(float)  # ... over the span
    bottom: dict[tuple[dt.date, str | None], float] = defaultdict(float)
    groups = {**{f"ContractLine:{k}": g for k, g in live.line_group.items()}}
    groups.update({f"Opportunity:{k}": g for k, g in live.deal_group.items()})
    for c in live.result.revenue:
        h = months_between(base, c.month)
        if c.component == Component.ACTUALS or not 1 <= h <= horizon:
            continue
        bottom[(c.month, c.dims.service_line_id)] += float(c.revenue)
        group = groups.get(c.source, NEW)
        x[(h, c.dims, group)] += float(c.revenue)
        total[(c.dims, group)] += float(c.revenue)
    for (group, sl), exposure in live.exposure.items():
        total[(Dims(sl, None, None), group)] += exposure
    for (dims, group), span_total in sorted(total.items(), key=lambda kv: str(kv[0])):
        for h in range(1, horizon + 1):
            f = learned.node(group, h)
            if f is None:
                continue
            scheduled = x.get((h, dims, group), 0.0)
            delta = cents(Decimal(str(w * (f.value * span_total - scheduled))))
            if not delta:
                continue
            reason = (
                f"{group} earns {f.value:.2f} of its {learned.span}-month forecast in month "
                f"+{h}, not {scheduled / span_total if span_total else 0:.2f} as scheduled "
                f"(learned as {f.group} on {f.origins} past origins, recency-weighted"
                f"{')' if w == 1 else f'), x blend weight {w:.2f}'}"
            )
            out.append(
                _learned(
                    add_months(base, h), Component.LEARNED_CONVERSION, dims, delta, reason, group
                )
            )
    lines = set(live.run_rate) | {sl for (_m, sl) in bottom}
    for h in range(1, horizon + 1):
        month = add_months(base, h)
        s = season(live, month)
        for sl in sorted(lines, key=str):
            dims, rr = Dims(sl, None, None), live.run_rate.get(sl, 0.0)
            nu = learned.new(sl, h)
            if nu and rr:
                reason = (
                    f"new work not yet in the CRM: {nu:.2f} x run-rate {rr:,.0f}/month "
                    f"at month +{h}{'' if w == 1 else f', x blend weight {w:.2f}'}"
                )
                amount = cents(Decimal(str(w * nu * rr)))
                out.append(_learned(month, Component.LEARNED_NEW_WORK, dims, amount, reason))
            # total = w x calibrated bottom-up + ws x seasonal + wf x flat run-rate, w + ws +
            # wf = 1: each run-rate stands in for its share of the bottom-up
            b = bottom.get((month, sl), 0.0)
            for share, top, what, how in (
                (blend.seasonal, rr * s, "seasonal", f"x season {s:.2f}"),
                (blend.flat, rr, "flat", "repeated"),
            ):
                delta = cents(Decimal(str(share * (top - b))))
                if not delta:
                    continue
                reason = (
                    f"top-down: {share:.2f} weight on the {what} run-rate ({rr:,.0f}/month "
                    f"{how}) in place of the bottom-up, learned on {len(blend.origins)} past "
                    "quarters"
                )
                out.append(
                    _learned(
                        month, Component.LEARNED_TOP_DOWN, dims, delta, reason, f"top_down:{what}"
                    )
                )
    return out


def _firm_bias(
    revenue: list[Contribution], bias: Bias, as_of: dt.date, horizon: int
) -> list[Contribution]:
    """The firm total scaled by its learned bias, every line (and region, entity) in proportion
    to its forecast so far: one contribution per month and dimensions, with its reason."""
    if not bias.log:
        return []
    base = month_start(as_of)
    months = {add_months(base, h) for h in range(1, horizon + 1)}
    forecast: dict[tuple[dt.date, Dims], Decimal] = defaultdict(Decimal)
    for c in revenue:
        if c.component != Component.ACTUALS and c.month in months:
            forecast[(c.month, c.dims)] += c.revenue
    m = bias.factor
    reason = (
        f"firm total: the forecast summed over the lines was {abs(math.exp(bias.raw) - 1):.1%} "
        f"{'low' if bias.raw > 0 else 'high'} on {len(bias.origins)} past quarters (nested "
        f"rolling origins, recency-weighted); scaled by {m:.3f} after shrinking toward no bias, "
        "each line in proportion"
    )
    out = []
    for (month, dims), value in sorted(forecast.items(), key=lambda kv: str(kv[0])):
        delta = cents(value * Decimal(str(round(m - 1, 6))))
        if delta:
            out.append(_learned(month, Component.LEARNED_FIRM_BIAS, dims, delta, reason, "firm"))
    return out


def learned_forecast(
    analytics: AnalyticsStore,
    as_of: dt.date,
    *,
    horizon: int = 3,
    currency: str = "USD",
    known_at: dt.datetime | None = None,
    cache: OriginCache | None = None,
    learn_months: int = LEARN_MONTHS,
) -> Learned:
    """Bottom-up forecast as of T for months T+1..T+horizon, corrected by what its own past
    forecasts (origins before T, realised by T) got wrong."""
    persist = analytics.path != ":memory:"  # a file: keep the origins for the next run
    cache = cache or OriginCache(analytics, horizon, currency, known_at, persist)
    views = [cache.get(t) for t in origin_dates(as_of, learn_months)]
    live = origin_view(
        analytics, as_of, horizon=horizon, currency=currency, known_at=known_at, keep=True
    )
    assert live.snapshot is not None and live.result is not None
    realised = Realised.of(live.snapshot, currency)
    attributed = {v.as_of: realised.attribute(v, cache.horizon) for v in views}
    learned = fit(views, attributed, as_of, horizon)
    blend = learn_blend(views, attributed, as_of) if learned.learned() else Blend(1.0, 0, [], [])
    adjustments = _adjustments(live, learned, blend, horizon)
    revenue = [*live.result.revenue, *adjustments]
    bias = learn_bias(blend, as_of)
    result = replace(live.result, revenue=[*revenue, *_firm_bias(revenue, bias, as_of, horizon)])
    out = Learned(result, live.result, learned, blend, live, bias)
    # the bands stay where the nested errors put them: centred exp(mu) from the forecast
    # before the firm bias, i.e. exp(mu - bias) from the forecast after it
    line, firm = _spread(_log_errors(blend, False)), _spread(_log_errors(blend, True))
    out.spread = {
        "line": (line[0] - bias.log, line[1], line[2]),
        "firm": (firm[0] - bias.log, firm[1], firm[2]),
    }
    first = add_months(month_start(as_of), 1)
    quarter = [add_months(first, k) for k in range(3)]
    per_line: dict[str | None, Decimal] = defaultdict(Decimal)
    for c in result.revenue:
        if c.month in quarter:
            per_line[c.dims.service_line_id] += c.revenue
    mu, sigma, _ = out.spread["line"]
    out.bands = [
        _band(sl, first, v, mu, sigma)
        for sl, v in sorted(per_line.items(), key=lambda kv: str(kv[0]))
    ]
    mu, sigma, _ = out.spread["firm"]
    out.bands.append(_band(None, first, sum(per_line.values(), Decimal(0)), mu, sigma))
    return out
