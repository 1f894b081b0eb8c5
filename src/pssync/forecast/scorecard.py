"""Scorecard pieces: errors by component, and coverage of the learned bands.

A total can be right for the wrong reasons; finance trusts a forecast whose parts are right.
Each as-of date's bottom-up forecast is split into its classes (backlog, pending won deals,
pipeline, new work) and set against the revenue that later came from the same records
(origins.Realised.attribute), before and after the learned conversion factors.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pssync.forecast import learning
from pssync.forecast.learned import Learned, QuarterBand
from pssync.forecast.origins import NEW, Realised, group_class
from pssync.forecast.scoring import METHODS, ComponentPoint, Point, Run, quarters, score
from pssync.planning.periods import add_months, month_start

CLASSES = ("backlog", "tail", "pending", "pipeline", NEW)


def component_points(learned: Learned, truth: Realised, horizon: int) -> list[ComponentPoint]:
    view, fit = learned.live, learned.fit
    actual: dict[tuple[str, str | None, int], float] = defaultdict(float)
    for (g, sl, h), value in truth.attribute(view, horizon).items():
        actual[(group_class(g), sl, h)] += value
    realised_h = {h for (_c, _sl, h) in actual}
    bottom: dict[tuple[str, str | None, int], float] = defaultdict(float)
    calibrated: dict[tuple[str, str | None, int], float] = defaultdict(float)
    for (g, sl, h), value in view.forecast.items():
        bottom[(group_class(g), sl, h)] += value
    for h in range(1, horizon + 1):
        for (g, sl), value in learning.calibrated(view, fit, h).items():
            calibrated[(group_class(g), sl, h)] += value
        for sl, rr in view.run_rate.items():
            calibrated[(NEW, sl, h)] += fit.new(sl, h) * rr
    out = []
    base = month_start(view.as_of)
    for key in sorted(set(actual) | set(bottom) | set(calibrated), key=str):
        c, sl, h = key
        if h not in realised_h:
            continue
        out.append(
            ComponentPoint(
                view.as_of,
                h,
                add_months(base, h),
                sl,
                c,
                bottom.get(key, 0.0),
                calibrated.get(key, 0.0),
                actual.get(key, 0.0),
            )
        )
    return out


def score_components(
    points: Sequence[ComponentPoint], by: Sequence[str] = ("component",)
) -> list[dict[str, Any]]:
    """WAPE and bias of the bottom-up and the calibrated forecast per group of points."""
    groups: dict[tuple[Any, ...], list[ComponentPoint]] = defaultdict(list)
    for p in points:
        groups[tuple(getattr(p, k) for k in by)].append(p)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        ps = groups[key]
        actual = sum(abs(p.actual) for p in ps)
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        row["actual"] = round(sum(p.actual for p in ps), 2)
        for name in ("bottom_up", "calibrated"):
            f = [getattr(p, name) for p in ps]
            row[name] = round(sum(f), 2)
            err = sum(abs(x - p.actual) for x, p in zip(f, ps, strict=True))
            bias = sum(x - p.actual for x, p in zip(f, ps, strict=True))
            row[f"{name}_wape"] = round(err / actual, 4) if actual else None
            row[f"{name}_bias"] = round(bias / actual, 4) if actual else None
        rows.append(row)
    return rows


def coverage(bands: Sequence[tuple[dt.date, QuarterBand, Decimal]]) -> dict[str, Any]:
    """Share of realised quarters inside P10-P90, per service line and for the firm."""
    lines = [(b, a) for _t, b, a in bands if b.service_line is not None]
    firm = [(b, a) for _t, b, a in bands if b.service_line is None]

    def share(items: list[tuple[QuarterBand, Decimal]]) -> float | None:
        if not items:
            return None
        return round(sum(b.p10 <= a <= b.p90 for b, a in items) / len(items), 4)

    degenerate = sum(not b.p10 < b.p50 < b.p90 for _t, b, _a in bands)  # any tie
    return {
        "line_quarters": len(lines),
        "line_coverage": share(lines),
        "firm_quarters": len(firm),
        "firm_coverage": share(firm),
        "degenerate_bands": degenerate,
    }


def firm_error(points: Sequence[Point], method: str) -> float | None:
    """WAPE of the firm total (all service lines summed) per as-of date."""
    f: dict[dt.date, Decimal] = defaultdict(Decimal)
    a: dict[dt.date, Decimal] = defaultdict(Decimal)
    for p in points:
        if p.method == method:
            f[p.as_of] += p.forecast
            a[p.as_of] += p.actual
    total = sum(a.values(), Decimal(0))
    if not total:
        return None
    return round(float(sum((abs(f[t] - a[t]) for t in a), Decimal(0)) / total), 4)


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (float(v) if isinstance(v, Decimal) else v) for k, v in r.items() if k != "n"}
        for r in rows
    ]


def build_scorecard(run: Run) -> dict[str, Any]:
    """Everything a user needs to judge the forecast on their own history, as plain data."""
    q = quarters(run.points)
    last = max(run.learned) if run.learned else None
    learned = run.learned[last] if last else None
    factors = []
    if learned is not None:
        for (group, h), f in sorted(learned.fit.factors.items()):
            factors.append(
                {"group": group, "horizon": h, "factor": round(f.value, 3), "origins": f.origins}
            )
    return {
        "as_of_dates": [str(t) for t in sorted(run.learned)],
        "next_quarter": _plain(score(q, by=("method",))),
        "firm_total_error": {m: firm_error(q, m) for m in METHODS},
        "by_service_line": _plain(score(q, by=("service_line", "method"))),
        "by_horizon": _plain(score(run.points, by=("horizon", "method"))),
        "by_component": score_components(run.components),
        "band_coverage": coverage(run.bands),
        "learned": {
            "as_of": str(last) if last else None,
            "blend_weight": round(learned.blend.weight, 3) if learned else None,
            "blend_quarters": len(learned.blend.origins) if learned else 0,
            "firm_bias_factor": round(learned.bias.factor, 4) if learned else None,
            "firm_bias_quarters": len(learned.bias.origins) if learned else 0,
            "factors": factors,
        },
    }
