"""The backtest's shared types and scores: forecast points, component points, a run.

`backtest` produces them and `scorecard` reads them; both import this module, neither the
other, so the two stay apart (one layer of data, one of production, one of presentation).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pssync.forecast.learned import Learned, QuarterBand
from pssync.forecast.money import ZERO

METHODS = ("model", "bottom_up", "crm_pipeline", "run_rate")
Key = tuple[dt.date, str | None]  # (month, service line)


@dataclass(frozen=True)
class Point:
    method: str
    as_of: dt.date
    horizon: int
    month: dt.date
    service_line: str | None
    forecast: Decimal
    actual: Decimal


@dataclass(frozen=True)
class ComponentPoint:
    as_of: dt.date
    horizon: int
    month: dt.date
    service_line: str | None
    component: str  # backlog / pending / pipeline / new
    bottom_up: float
    calibrated: float  # after the learned conversion factors (before the top-down blend)
    actual: float


@dataclass
class Run:
    """A backtest's points, the learned forecast's next-quarter bands, and what it learned."""

    points: list[Point] = field(default_factory=list)
    bands: list[tuple[dt.date, QuarterBand, Decimal]] = field(default_factory=list)  # + actual
    learned: dict[dt.date, Learned] = field(default_factory=dict)
    components: list[ComponentPoint] = field(default_factory=list)
    realised_months: int = 0  # months with recognised revenue by the realised date


def quarters(points: Sequence[Point], months: int = 3) -> list[Point]:
    """Sum horizons 1..`months` per (method, as-of, service line) into one point each
    (horizon 0, month = the first month): the next-quarter total finance plans against.
    Only as-of dates whose whole period is realised (all `months` horizons present) count."""
    groups: dict[tuple[str, dt.date, str | None], list[Point]] = defaultdict(list)
    for p in points:
        if 1 <= p.horizon <= months:
            groups[(p.method, p.as_of, p.service_line)].append(p)
    out = []
    for (method, as_of, sl), ps in sorted(groups.items(), key=lambda kv: str(kv[0])):
        if len({p.horizon for p in ps}) < months:
            continue
        first = min(p.month for p in ps)
        f = sum((p.forecast for p in ps), ZERO)
        a = sum((p.actual for p in ps), ZERO)
        out.append(Point(method, as_of, 0, first, sl, f, a))
    return out


def score(
    points: Sequence[Point], by: Sequence[str] = ("method", "service_line", "horizon")
) -> list[dict[str, Any]]:
    """WAPE (sum |f - a| / sum |a|) and bias (sum (f - a) / sum |a|) per group."""
    groups: dict[tuple[Any, ...], list[Point]] = defaultdict(list)
    for p in points:
        groups[tuple(getattr(p, k) for k in by)].append(p)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        ps = groups[key]
        actual = sum((abs(p.actual) for p in ps), ZERO)
        error = sum((abs(p.forecast - p.actual) for p in ps), ZERO)
        bias = sum((p.forecast - p.actual for p in ps), ZERO)
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        row.update(
            n=len(ps),
            forecast=sum((p.forecast for p in ps), ZERO),
            actual=sum((p.actual for p in ps), ZERO),
            wape=(error / actual).quantize(Decimal("0.0001")) if actual else None,
            bias=(bias / actual).quantize(Decimal("0.0001")) if actual else None,
        )
        rows.append(row)
    return rows
