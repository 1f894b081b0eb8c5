"""Forecast contributions, their dimensions, and the ledger that converts and rounds them.

Every number in a forecast cell is the sum of contributions, each tied to the record behind it
(a revenue event, a contract line, an opportunity): that is the lineage finance asks for. Each
contribution is converted to the reporting currency once, at the rate effective on its date,
and rounded to cents once, so cells, components and totals are sums of the same cents and
reconcile exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pssync.forecast.money import ZERO, FxTable, cents
from pssync.forecast.snapshot import Snapshot
from pssync.planning.periods import WorkCalendar, iter_months, month_end, month_start


class Component(StrEnum):
    ACTUALS = "actuals"
    SCHEDULED_BACKLOG = "scheduled_backlog"
    UNSCHEDULED_BACKLOG = "unscheduled_backlog"
    WEIGHTED_PIPELINE = "weighted_pipeline"
    # Adjustments learned from the firm's own past forecasts (learned.py), each with a reason
    LEARNED_CONVERSION = "learned_conversion"
    LEARNED_NEW_WORK = "learned_new_work"
    LEARNED_TOP_DOWN = "learned_top_down"
    LEARNED_FIRM_BIAS = "learned_firm_bias"


@dataclass(frozen=True)
class Dims:
    service_line_id: str | None
    region_id: str | None
    legal_entity_id: str | None


@dataclass(frozen=True)
class Contribution:
    """One source's revenue (and delivery cost) in one month, in the reporting currency."""

    month: dt.date
    component: Component
    dims: Dims
    source: str  # "EntityType:id"
    revenue: Decimal
    cost: Decimal = ZERO
    reason: str = ""  # why a learned adjustment is there (empty for records' own forecasts)


class Ledger:
    """Collects contributions inside the forecast window, converting each exactly once."""

    def __init__(self, fx: FxTable, currency: str, first: dt.date, last: dt.date) -> None:
        self.fx, self.currency = fx, currency
        self.first, self.last = month_start(first), month_start(last)
        self.items: list[Contribution] = []

    def in_window(self, month: dt.date) -> bool:
        return self.first <= month <= self.last

    def add(
        self,
        component: Component,
        dims: Dims,
        source: str,
        currency: str,
        revenue: Mapping[dt.date, Decimal],
        cost: Mapping[dt.date, Decimal] | None = None,
        *,
        rate_date: dt.date | None = None,
    ) -> None:
        """Add monthly amounts (in `currency`); FX applies at `rate_date` or the month start."""
        cost = cost or {}
        for month in sorted(set(revenue) | set(cost)):
            if not self.in_window(month):
                continue
            on = rate_date or month
            rev = cents(self.fx.convert(revenue.get(month, ZERO), currency, self.currency, on))
            cst = cents(self.fx.convert(cost.get(month, ZERO), currency, self.currency, on))
            if rev or cst:
                self.items.append(Contribution(month, component, dims, source, rev, cst))

    def total(self, component: Component | None = None) -> Decimal:
        return sum(
            (c.revenue for c in self.items if component is None or c.component == component), ZERO
        )


def add_actuals(ledger: Ledger, snap: Snapshot) -> None:
    """Recognised revenue (ERP revenue events) up to the as-of date, converted on its day."""
    for row in snap.actuals:
        dims = Dims(row.service_line_id, row.region_id, row.legal_entity_id)
        source = f"ContractLine:{row.contract_line_id}" if row.contract_line_id else "RevenueEvent"
        month = month_start(row.day)
        ledger.add(
            Component.ACTUALS, dims, source, row.currency, {month: row.amount}, rate_date=row.day
        )


def burn_weights(months: list[dt.date], first_day: dt.date, curve: str = "flat") -> list[Decimal]:
    """Weights of a burn curve over `months` (the first may be partial, from `first_day`).

    ``flat`` burns evenly per calendar day; ``s_curve`` follows a Beta(2,2) profile (slow start,
    peak mid-way, slow finish), the usual shape of project effort.
    """
    days = [Decimal((month_end(m) - max(m, first_day)).days + 1) for m in months]
    if curve == "flat":
        return days
    if curve != "s_curve":
        raise ValueError(f"unknown burn curve {curve!r}")
    total = sum(days, Decimal(0))
    out, elapsed = [], Decimal(0)
    for d in days:
        mid = (elapsed + d / 2) / total
        out.append(d * 6 * mid * (1 - mid))
        elapsed += d
    return out


def remaining_months(as_of: dt.date, start: dt.date, end: dt.date) -> list[dt.date]:
    """Months of [max(start, as_of+1), end], or just the month after as-of if that is empty."""
    first = max(start, as_of + dt.timedelta(days=1))
    months = list(iter_months(first, end)) if first <= end else []
    return months or [month_start(as_of + dt.timedelta(days=1))]


def hours_by_month(
    hours: Decimal, start: dt.date, end: dt.date, calendar: WorkCalendar, after: dt.date
) -> dict[dt.date, Decimal]:
    """A booking's hours spread evenly over its working days; only the days after `after`."""
    per_month = calendar.working_days_by_month(start, end)
    total = sum(per_month.values())
    if total == 0:
        return {month_start(start): hours} if start > after else {}
    future = calendar.working_days_by_month(max(start, after + dt.timedelta(days=1)), end)
    return {m: hours * n / total for m, n in future.items()}


def merge(schedules: Iterable[Mapping[dt.date, Decimal]]) -> dict[dt.date, Decimal]:
    out: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    for schedule in schedules:
        for month, value in schedule.items():
            out[month] += value
    return dict(sorted(out.items()))
