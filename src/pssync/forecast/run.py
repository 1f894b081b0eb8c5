"""One forecast run: snapshot as of T, calibrate, place deals, add every component.

The run is a pure function of (analytics mirror, as-of date, scenario), which is what lets a
stored version be recomputed later and compared with what really happened.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backlog import BacklogOptions, add_backlog
from pssync.forecast.calibration import calibrate
from pssync.forecast.components import Component, Contribution, Ledger, add_actuals
from pssync.forecast.money import ZERO
from pssync.forecast.sales_pipeline import (
    PipelineOptions,
    ProbabilityFn,
    add_pipeline,
    crm_probability,
    place_pipeline,
)
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.planning.capacity import Array, CapacityPlan, Key, Placement
from pssync.planning.periods import add_months, month_start, months_between

DIMENSIONS = ("service_line", "region", "legal_entity")


@dataclass(frozen=True)
class Scenario:
    """A named what-if: probabilities scaled, starts shifted, capacity added (weekly hours
    by ``role_id`` or ``role_id@region_id``)."""

    name: str = "base"
    probability_multiplier: Decimal = Decimal(1)
    start_shift_days: int = 0
    added_capacity: Mapping[str, float] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        return {
            "probability_multiplier": str(self.probability_multiplier),
            "start_shift_days": self.start_shift_days,
            "added_capacity": dict(sorted(self.added_capacity.items())),
        }


@dataclass(frozen=True)
class UtilizationRow:
    month: dt.date
    role_id: str
    region_id: str
    capacity_hours: float
    booked_hours: float
    pipeline_hours: float

    @property
    def utilization(self) -> float:
        used = self.booked_hours + self.pipeline_hours
        return used / self.capacity_hours if self.capacity_hours > 0 else 0.0


@dataclass
class ForecastResult:
    as_of: dt.date
    scenario: Scenario
    currency: str
    months: list[dt.date]
    input_digest: str
    revenue: list[Contribution]
    billing: list[Contribution]
    placements: dict[str, Placement]
    utilization: list[UtilizationRow]

    def cells(
        self, by: Sequence[str] = DIMENSIONS, *, billing: bool = False
    ) -> list[dict[str, Any]]:
        """Rows month x chosen dimensions x component with revenue, cost and margin."""
        acc: dict[tuple[Any, ...], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for c in self.billing if billing else self.revenue:
            key = (c.month, *(getattr(c.dims, f"{d}_id") for d in by), c.component.value)
            acc[key][0] += c.revenue
            acc[key][1] += c.cost
        rows = []
        for key, (rev, cost) in sorted(acc.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
            row: dict[str, Any] = {"month": key[0]}
            row.update({d: key[1 + i] for i, d in enumerate(by)})
            row.update(component=key[-1], revenue=rev, cost=cost, margin=rev - cost)
            rows.append(row)
        return rows

    def total(
        self, component: Component | None = None, months: Sequence[dt.date] | None = None
    ) -> Decimal:
        return sum(
            (
                c.revenue
                for c in self.revenue
                if (component is None or c.component == component)
                and (months is None or c.month in months)
            ),
            ZERO,
        )

    def by_month(self) -> dict[dt.date, Decimal]:
        out = {m: ZERO for m in self.months}
        for c in self.revenue:
            out[c.month] += c.revenue
        return out


def _utilization(
    plan: CapacityPlan, before: Mapping[Key, Array], months: list[dt.date]
) -> list[UtilizationRow]:
    """Capacity, hard-booked and probability-weighted pipeline hours per role, region, month."""
    rows = []
    for key in sorted(set(plan.capacity) | set(plan.booked)):
        cap = plan.monthly(plan.capacity[key])
        booked = plan.monthly(before.get(key, np.zeros(plan.days)))
        total = plan.monthly(plan.booked[key])
        for month in months:
            i = months_between(plan.first, month)
            if 0 <= i < plan.n_months and (cap[i] or total[i]):
                rows.append(
                    UtilizationRow(
                        month,
                        key[0],
                        key[1],
                        float(cap[i]),
                        float(booked[i]),
                        float(total[i] - booked[i]),
                    )
                )
    return rows


def forecast_snapshot(
    snap: Snapshot,
    *,
    scenario: Scenario = Scenario(),
    horizon: int = 12,
    lookback: int = 0,
    currency: str = "USD",
    probability: ProbabilityFn = crm_probability,
    overrun: Callable[[str | None], Decimal] = lambda _sl: Decimal(1),
    burn_curve: str = "flat",
    realisation: Decimal = Decimal(1),
) -> ForecastResult:
    """Every component for `horizon` months from the as-of month (plus `lookback` months)."""
    first = add_months(month_start(snap.as_of), -lookback)
    months = [add_months(first, i) for i in range(lookback + horizon)]
    ledger = Ledger(snap.fx, currency, months[0], months[-1])
    billing = Ledger(snap.fx, currency, months[0], months[-1])
    add_actuals(ledger, snap)
    backlog = BacklogOptions(burn_curve=burn_curve, overrun=overrun, realisation=realisation)
    add_backlog(ledger, billing, snap, backlog)
    opts = PipelineOptions(
        probability_multiplier=scenario.probability_multiplier,
        start_shift_days=scenario.start_shift_days,
        added_weekly_hours=scenario.added_capacity,
    )
    longest = max(
        [o.duration_months or opts.default_duration_months for o in snap.opportunities.values()]
        + [opts.default_duration_months]
    )
    plan_end = add_months(months[-1], opts.max_search_months + longest + 1) - dt.timedelta(days=1)
    plan = CapacityPlan(
        snap.as_of + dt.timedelta(days=1),
        plan_end,
        snap.regions,
        list(snap.resources.values()),
        list(snap.assignments.values()),
        include_soft=opts.include_soft_bookings,
        added_weekly_hours=opts.added_weekly_hours,
    )
    before = {k: v.copy() for k, v in plan.booked.items()}
    placements = place_pipeline(snap, plan, probability, opts)
    add_pipeline(ledger, billing, snap, placements, probability, opts)
    return ForecastResult(
        as_of=snap.as_of,
        scenario=scenario,
        currency=currency,
        months=months,
        input_digest=snap.input_digest,
        revenue=ledger.items,
        billing=billing.items,
        placements=placements,
        utilization=_utilization(plan, before, months),
    )


def run_forecast(
    analytics: AnalyticsStore,
    as_of: dt.date,
    *,
    known_at: dt.datetime | None = None,
    calibrated: bool = True,
    **kwargs: Any,
) -> ForecastResult:
    """Forecast from the analytics mirror as of `as_of` (valid and known at the end of T).

    With `calibrated`, win probabilities, effort overruns and the booked-to-billed realisation
    come from the history known at T (see calibration.py); otherwise the CRM's probabilities
    and the plans are taken as given.
    """
    snap = load_snapshot(analytics, as_of, known_at, invoices=False)  # KPIs read them
    if calibrated:
        cal = calibrate(analytics, snap, kwargs.get("currency", "USD"))
        kwargs = {
            "probability": cal.probability,
            "overrun": cal.overrun_of,
            "realisation": cal.realisation,
            **kwargs,
        }
    return forecast_snapshot(snap, **kwargs)
