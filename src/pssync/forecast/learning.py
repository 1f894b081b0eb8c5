"""Learning from the firm's own past forecasts: conversion factors, new work, blend weight.

At an as-of date T only origins t whose forecast month t+h was fully realised by T teach
anything about horizon h (`usable`). Per horizon:

- each group's conversion factor is its month-h revenue / its forecast over the whole span
  (months 1..H: a group can be right in total and wrong in timing, as when a contract past
  its end date dumps its remainder into the next month), over those origins (recent ones
  weigh more: half-life HALF_LIFE_MONTHS), shrunk to its parent group (backlog:t&m:overdue:
  booked -> backlog:t&m:overdue -> backlog:t&m -> backlog) and each class to the share the
  bottom-up model itself puts in month h: half an origin's worth of the parent's volume
  pulls toward the parent, so a small group seen once barely moves;
- new work (revenue from deals not yet in the CRM at t) is a multiple of each line's run-rate;
- the weights of the calibrated bottom-up forecast, the top-down seasonal run-rate and the
  flat run-rate are chosen on nested rolling origins: each past quarter is forecast with
  factors learned only from what was realised before it, and the weights minimising the
  absolute error win;
- the firm's bias: the same nested quarters summed over the lines, log(actual / forecast),
  recency-weighted and shrunk toward none (`learn_bias`). Line errors that share a cause (new
  work a growing firm keeps under-forecasting, conversion factors that lag a trend) add up in
  the firm's total instead of cancelling, so the firm total gets its own correction and the
  lines are reconciled to it in proportion.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from pssync.forecast.origins import NEW, Cell, OriginView, last_full_month, parents
from pssync.planning.periods import add_months, month_start, months_between

SHRINK_ORIGINS = 0.5  # pseudo-origins of parent volume each factor is pulled with
NEW_WORK_SHRINK = 1.0
MAX_FACTOR = 4.0
HALF_LIFE_MONTHS = 12
BIAS_SHRINK_QUARTERS = 2.0  # pseudo-quarters of no bias the firm's learned bias is pulled with
QUARTER = 3
Attributed = dict[dt.date, dict[Cell, float]]  # origin -> realised revenue by its groups


@dataclass(frozen=True)
class Factor:
    group: str
    horizon: int
    value: float
    forecast: float  # summed over the origins that taught it
    actual: float
    origins: int


@dataclass
class Fit:
    """What was learned as of `limit` from the origins realised by then."""

    limit: dt.date
    span: int  # months of forecast a group's total covers (1..span after the origin month)
    factors: dict[tuple[str, int], Factor] = field(default_factory=dict)  # every group level
    new_work: dict[tuple[str | None, int], float] = field(default_factory=dict)
    new_work_all: dict[int, float] = field(default_factory=dict)
    origins: dict[int, list[dt.date]] = field(default_factory=dict)

    def node(self, group: str, h: int) -> Factor | None:
        """The factor of `group`, else of its nearest learned ancestor."""
        h = self.horizon(h)
        for name in (group, *parents(group)):
            f = self.factors.get((name, h))
            if f is not None:
                return f
        return None

    def calibrated(self, group: str, h: int, total: float, as_forecast: float) -> float:
        """Month-h revenue of a group whose forecast over the span is `total` (and
        `as_forecast` in month h): the learned share of the total, else the forecast as is."""
        f = self.node(group, h)
        return as_forecast if f is None else f.value * total

    def new(self, sl: str | None, h: int) -> float:
        h = self.horizon(h)
        return self.new_work.get((sl, h), self.new_work_all.get(h, 0.0))

    def horizon(self, h: int) -> int:
        """Horizons nothing was realised for yet reuse the furthest one that was."""
        learned = [k for k, v in self.origins.items() if v]
        return h if h in learned or not learned else min(max(learned), h)

    def learned(self) -> bool:
        return any(self.origins.values())


def usable(origin: dt.date, h: int, limit: dt.date) -> bool:
    """Was month t+h fully realised (recognised and known) by `limit`?"""
    return add_months(month_start(origin), h) <= last_full_month(limit)


def _shrunk(actual: float, forecast: float, parent: float, weight: float) -> float:
    if forecast + weight <= 0:
        return parent
    return max(0.0, min(MAX_FACTOR, (actual + weight * parent) / (forecast + weight)))


def recency(origin: dt.date, limit: dt.date) -> float:
    """Weight of an origin: halves every HALF_LIFE_MONTHS, as firms change."""
    return float(0.5 ** (months_between(origin, limit) / HALF_LIFE_MONTHS))


def fit(views: list[OriginView], attributed: Attributed, limit: dt.date, horizon: int) -> Fit:
    out = Fit(limit, horizon)
    for h in range(1, horizon + 1):
        x: dict[str, float] = defaultdict(float)  # group forecast over the whole span
        xh: dict[str, float] = defaultdict(float)  # ... and in month h
        a: dict[str, float] = defaultdict(float)
        rr: dict[str | None, float] = defaultdict(float)
        new: dict[str | None, float] = defaultdict(float)
        used = [v for v in views if usable(v.as_of, h, limit)]
        out.origins[h] = [v.as_of for v in used]
        if not used:
            continue
        n = 0.0
        for v in used:
            wv = recency(v.as_of, limit)
            n += wv
            for (g, _sl, hh), value in v.forecast.items():
                if hh > horizon:
                    continue
                for node in (g, *parents(g)):
                    x[node] += wv * value
                    if hh == h:
                        xh[node] += wv * value
            for (g, sl, hh), value in attributed[v.as_of].items():
                if hh != h:
                    continue
                if g == NEW:
                    new[sl] += wv * value
                else:
                    for node in (g, *parents(g)):
                        a[node] += wv * value
            for (g, _sl), value in v.exposure.items():
                for node in (g, *parents(g)):
                    x[node] += wv * value
            for sl, value in v.run_rate.items():
                rr[sl] += wv * value
        for node in sorted(set(x) | set(a), key=lambda g: (g.count(":"), g)):
            up = parents(node)
            as_scheduled = xh[node] / x[node] if x[node] > 0 else 0.0
            parent = out.factors[(up[0], h)].value if up else as_scheduled
            weight = SHRINK_ORIGINS * (x[up[0]] if up else x[node]) / n
            value = _shrunk(a[node], x[node], parent, weight)
            out.factors[(node, h)] = Factor(node, h, value, x[node], a[node], len(used))
        total_rr = sum(rr.values())
        overall = sum(new.values()) / total_rr if total_rr > 0 else 0.0
        out.new_work_all[h] = overall
        for sl, r in rr.items():
            weight = NEW_WORK_SHRINK * r / n
            out.new_work[(sl, h)] = _shrunk(new.get(sl, 0.0), r, overall, weight)
    return out


def season(view: OriginView, month: dt.date) -> float:
    """Firm-wide seasonal index of `month` against the run-rate window, from a year before:
    revenue of the same month last year / mean of the run-rate months last year."""
    last = last_full_month(view.as_of)
    firm: dict[dt.date, float] = defaultdict(float)
    for (m, _sl), amount in view.monthly_actuals.items():
        firm[m] += amount
    before = [firm.get(add_months(last, -12 - k), 0.0) for k in range(3)]
    same = firm.get(add_months(month, -12), 0.0)
    if min(before) <= 0 or same <= 0:
        return 1.0
    return max(0.6, min(1.6, same / (sum(before) / 3)))


def spans(view: OriginView, span: int) -> dict[tuple[str, str | None], float]:
    """Each (group, service line)'s forecast summed over months 1..span (for tail groups,
    their exposure: last three months' monthly revenue)."""
    out: dict[tuple[str, str | None], float] = defaultdict(float, view.exposure)
    for (g, sl, hh), value in view.forecast.items():
        if hh <= span:
            out[(g, sl)] += value
    return out


def calibrated(view: OriginView, learned: Fit, h: int) -> dict[tuple[str, str | None], float]:
    """Month-h revenue per (group, service line): learned share x the group's span total."""
    return {
        (g, sl): learned.calibrated(g, h, total, view.forecast.get((g, sl, h), 0.0))
        for (g, sl), total in spans(view, learned.span).items()
    }


def bottom_up(view: OriginView, learned: Fit, h: int) -> dict[str | None, float]:
    """Calibrated bottom-up per service line at horizon h: groups' learned shares + new work."""
    out: dict[str | None, float] = defaultdict(float)
    for (_g, sl), value in calibrated(view, learned, h).items():
        out[sl] += value
    for sl, r in view.run_rate.items():
        out[sl] += learned.new(sl, h) * r
    return dict(out)


def top_down(view: OriginView, h: int) -> dict[str | None, float]:
    s = season(view, add_months(month_start(view.as_of), h))
    return {sl: r * s for sl, r in view.run_rate.items()}


@dataclass
class Blend:
    """Weights of the three candidates for a line's next quarter, summing to 1: the calibrated
    bottom-up (`weight`), the seasonal run-rate (`seasonal`) and the flat run-rate (the rest).
    The seasonal index is one year's ratio, read off a firm that may have been ramping up then,
    so the flat run-rate is kept as a candidate of its own: the past decides which one serves."""

    weight: float  # of the calibrated bottom-up
    points: int  # (origin, service line) quarters it was chosen on
    origins: list[dt.date]
    residuals: list[tuple[dt.date, str | None, float, float]]  # (origin, line, forecast, actual)
    # (origin, line, calibrated bottom-up, seasonal run-rate, flat run-rate, actual)
    rows: list[tuple[dt.date, str | None, float, float, float, float]] = field(default_factory=list)
    seasonal: float = 0.0  # of the seasonal run-rate

    @property
    def flat(self) -> float:
        """Weight of the flat run-rate (the last three full months, repeated)."""
        return max(0.0, 1.0 - self.weight - self.seasonal)


WEIGHT_STEPS = 20  # the weights are chosen on a grid of 1/20
BLEND_SHRINK_QUARTERS = 2.0  # pseudo-quarters of the bottom-up alone the weights are pulled with


def best_weights(
    rows: list[tuple[dt.date, str | None, float, float, float, float]],
) -> tuple[float, float]:
    """(bottom-up, seasonal) weights with the least absolute error over the rows; ties go to
    the bottom-up, then to the seasonal run-rate."""
    best, best_err = (1.0, 0.0), math.inf
    for i in range(WEIGHT_STEPS, -1, -1):
        for j in range(WEIGHT_STEPS - i, -1, -1):
            w, ws = i / WEIGHT_STEPS, j / WEIGHT_STEPS
            wf = 1.0 - w - ws
            err = sum(abs(w * c + ws * s + wf * f - a) for _o, _sl, c, s, f, a in rows)
            if err < best_err - 1e-9:
                best, best_err = (w, ws), err
    return best


def learn_blend(views: list[OriginView], attributed: Attributed, limit: dt.date) -> Blend:
    """Weights of the calibrated bottom-up, the seasonal and the flat run-rate, from nested
    rolling-origin quarters (each forecast with what was learned before it)."""
    rows: list[tuple[dt.date, str | None, float, float, float, float]] = []
    for v in views:
        if not usable(v.as_of, QUARTER, limit):
            continue
        nested = fit(views, attributed, v.as_of, QUARTER)
        if len(nested.origins.get(1, [])) < 2:
            continue
        cb: dict[str | None, float] = defaultdict(float)
        td: dict[str | None, float] = defaultdict(float)
        act: dict[str | None, float] = defaultdict(float)
        for h in range(1, QUARTER + 1):
            for sl, value in bottom_up(v, nested, h).items():
                cb[sl] += value
            for sl, value in top_down(v, h).items():
                td[sl] += value
        for (_g, sl, hh), value in attributed[v.as_of].items():
            if 1 <= hh <= QUARTER:
                act[sl] += value
        for sl in set(cb) | set(td) | set(act):
            flat = QUARTER * v.run_rate.get(sl, 0.0)
            rows.append((v.as_of, sl, cb.get(sl, 0.0), td.get(sl, 0.0), flat, act.get(sl, 0.0)))
    origins = sorted({r[0] for r in rows})
    if len(origins) < 2:
        residuals = [(o, sl, c, a) for o, sl, c, _s, _f, a in rows]
        return Blend(1.0, len(rows), origins, residuals, rows)
    best, best_seasonal = best_weights(rows)
    n, k = len(origins), BLEND_SHRINK_QUARTERS  # few quarters: lean on the bottom-up
    weight, seasonal = (n * best + k) / (n + k), n * best_seasonal / (n + k)
    flat = max(0.0, 1.0 - weight - seasonal)
    residuals = [(o, sl, weight * c + seasonal * s + flat * f, a) for o, sl, c, s, f, a in rows]
    return Blend(weight, len(rows), origins, residuals, rows, seasonal)


@dataclass(frozen=True)
class Bias:
    """The firm total's learned bias: log(actual / forecast) of its nested past quarters."""

    log: float  # recency-weighted mean, shrunk toward 0 (the multiplier is exp(log))
    raw: float  # the same before shrinkage
    origins: list[dt.date]  # past origins whose quarter (realised by T) taught it

    @property
    def factor(self) -> float:
        return math.exp(self.log)


def learn_bias(blend: Blend, limit: dt.date) -> Bias:
    """The firm's bias from the blend's nested quarters (each realised by `limit`): per origin
    the forecast and actual summed over the lines; recent quarters weigh more (HALF_LIFE_MONTHS);
    n quarters are shrunk toward no bias as n / (n + BIAS_SHRINK_QUARTERS)."""
    by_origin: dict[dt.date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for origin, _sl, f, a in blend.residuals:
        if usable(origin, QUARTER, limit):
            by_origin[origin][0] += f
            by_origin[origin][1] += a
    used = sorted(o for o, (f, a) in by_origin.items() if f > 0 and a > 0)
    if not used:
        return Bias(0.0, 0.0, [])
    weights = [recency(o, limit) for o in used]
    logs = [math.log(by_origin[o][1] / by_origin[o][0]) for o in used]
    raw = sum(w * x for w, x in zip(weights, logs, strict=True)) / sum(weights)
    return Bias(raw * len(used) / (len(used) + BIAS_SHRINK_QUARTERS), raw, used)
