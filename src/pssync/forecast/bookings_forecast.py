"""Bookings forecast for a CRM-only firm: closed-won value over the next months, with its band,
including deals not created yet; and its backtest against the value actually won.

Two parts, added per Monte Carlo draw so the band is the band of their sum:

* the deals open at T: each wins with its calibrated probability and slips as the firm's deals
  slip (`montecarlo.draw_deals`, the draws the revenue band uses); a win counts in the month it
  closes, if that is inside the horizon;
* deals not yet created at T that will be created and won inside the horizon: learned from the
  firm's own history, the value created-and-won inside each of the last quarters (deals whose
  creation and win fall in the same quarter, as known at T). Each draw takes one of those
  quarters' values (a bootstrap), scaled to the horizon; the expected value is their mean.

The expected value is the mean of the draws (so it always lies inside its own band's range),
never a separate calculation. With no creation dates in the history (a CSV without them), the
second part is zero and the forecast says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.calibration import calibrate
from pssync.forecast.money import cents
from pssync.forecast.montecarlo import Band, draw_deals
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.planning.periods import add_months, as_of_instant, month_start, months_between

QUARTER = 3


@dataclass(frozen=True)
class NewDeals:
    """Value created and won inside each of the last quarters before T (oldest first)."""

    quarters: list[tuple[dt.date, Decimal]]
    reason: str = ""

    @property
    def per_quarter(self) -> Decimal:
        if not self.quarters:
            return Decimal(0)
        return cents(sum((v for _, v in self.quarters), Decimal(0)) / len(self.quarters))


@dataclass
class BookingsForecast:
    as_of: dt.date
    months: int
    currency: str
    total: Band  # open deals + not yet created
    open_deals: Band
    new_deals: NewDeals
    by_month: dict[dt.date, Band] = field(default_factory=dict)  # open deals only

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": str(self.as_of),
            "months": self.months,
            "currency": self.currency,
            "expected": str(self.total.mean),
            "band": {k: str(v) for k, v in self.total.__dict__.items()},
            "open_deals": {k: str(v) for k, v in self.open_deals.__dict__.items()},
            "not_yet_created": {
                "per_quarter": str(self.new_deals.per_quarter),
                "quarters": [
                    {"start": str(q), "value": str(v)} for q, v in self.new_deals.quarters
                ],
                "reason": self.new_deals.reason,
            },
            "by_close_month": [
                {"month": str(m), **{k: str(v) for k, v in b.__dict__.items()}}
                for m, b in sorted(self.by_month.items())
            ],
        }


def _latest(rows: Iterable[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """The last version of each record among `history` rows (ordered by record, valid time)."""
    out: dict[str, dict[str, Any]] = {}
    for record_id, _valid_from, _valid_to, payload in rows:
        out[str(record_id)] = payload
    return out


def won_deals(
    analytics: AnalyticsStore, known_at: dt.datetime, valid_until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Closed-won deals as known at `known_at` (their last version valid by `valid_until`)."""
    rows = analytics.history("Opportunity", known_at, valid_until)
    return [p for p in _latest(rows).values() if p.get("is_won") and p.get("close_date")]


def _value(snap: Snapshot, deal: dict[str, Any], currency: str) -> Decimal:
    money = deal.get("amount") or {}
    amount = Decimal(str(money.get("amount") or 0))
    return snap.fx.convert(amount, str(money.get("currency") or currency), currency, snap.as_of)


def _created(deal: dict[str, Any]) -> dt.date | None:
    text = deal.get("created_at")
    return dt.datetime.fromisoformat(str(text)).date() if text else None


def created_and_won(
    analytics: AnalyticsStore,
    snap: Snapshot,
    currency: str,
    known_at: dt.datetime,
    quarters: int = 4,
) -> NewDeals:
    """What deals created and won inside one quarter were worth, over the last `quarters`."""
    deals = won_deals(analytics, known_at, as_of_instant(snap.as_of))
    if not any(_created(d) for d in deals):
        return NewDeals([], "no creation dates in the history: deals not yet created not modelled")
    first = month_start(snap.as_of)
    starts = [add_months(first, -QUARTER * (i + 1)) for i in reversed(range(quarters))]
    out = []
    for start in starts:
        end = add_months(start, QUARTER)
        value = sum(
            (
                _value(snap, d, currency)
                for d in deals
                if (c := _created(d)) is not None
                and start <= c < end
                and start <= dt.date.fromisoformat(str(d["close_date"])) < end
            ),
            Decimal(0),
        )
        out.append((start, cents(value)))
    return NewDeals(out)


def bookings_forecast(
    analytics: AnalyticsStore,
    as_of: dt.date,
    *,
    months: int = QUARTER,
    currency: str = "USD",
    known_at: dt.datetime | None = None,
    n: int = 2000,
    seed: int = 7,
) -> BookingsForecast:
    """Closed-won value expected in the `months` from T's month, with its P10-P90 band."""
    snap = load_snapshot(analytics, as_of, known_at)
    cal = calibrate(analytics, snap, currency)
    draws = draw_deals(snap, cal, n, seed)
    first = month_start(snap.as_of)
    per_month = np.zeros((n, months))
    for j, deal_id in enumerate(draws.deal_ids):
        opp = snap.opportunities[deal_id]
        amount = float(snap.fx.convert(opp.amount.amount, opp.amount.currency, currency, as_of))
        index = max(months_between(first, opp.close_date), 0) + draws.delay_months[:, j]
        inside = index < months
        rows = np.nonzero(inside)[0]
        np.add.at(per_month, (rows, index[inside]), draws.won[rows, j] * amount)
    open_total = per_month.sum(axis=1)
    new = created_and_won(analytics, snap, currency, known_at or as_of_instant(as_of))
    values = [float(v) for _, v in new.quarters] or [0.0]
    rng = np.random.default_rng(seed + 1)
    new_total = rng.choice(np.array(values), n) * months / QUARTER
    return BookingsForecast(
        as_of,
        months,
        currency,
        Band.of(open_total + new_total),
        Band.of(open_total),
        new,
        {add_months(first, k): Band.of(per_month[:, k]) for k in range(months)},
    )


@dataclass(frozen=True)
class BookingsPoint:
    as_of: dt.date
    forecast: Band
    actual: Decimal
    open_part: Decimal
    new_part: Decimal

    @property
    def error(self) -> Decimal:
        return self.forecast.mean - self.actual

    def as_dict(self) -> dict[str, Any]:
        inside = self.forecast.p10 <= self.actual <= self.forecast.p90
        share = self.error / self.actual if self.actual else None
        return {
            "as_of": str(self.as_of),
            "expected": str(self.forecast.mean),
            "p10": str(self.forecast.p10),
            "p90": str(self.forecast.p90),
            "open_deals": str(self.open_part),
            "not_yet_created": str(self.new_part),
            "actual_won": str(self.actual),
            "error": str(self.error),
            "error_share": None if share is None else f"{share:.3f}",
            "inside_band": inside,
        }


def backtest_bookings(
    analytics: AnalyticsStore,
    dates: list[dt.date],
    *,
    months: int = QUARTER,
    currency: str = "USD",
    realised_as_of: dt.date,
    known_now: bool = False,
) -> list[BookingsPoint]:
    """For each T: the bookings forecast as known at T (or now, `known_now`) against the value
    won in those months as known at `realised_as_of` (deals created after T included)."""
    now = max(as_of_instant(realised_as_of), analytics.high_water_mark)
    won = won_deals(analytics, now)
    snap_now = load_snapshot(analytics, realised_as_of, None)
    out = []
    for as_of in dates:
        known = analytics.high_water_mark if known_now else None
        fc = bookings_forecast(analytics, as_of, months=months, currency=currency, known_at=known)
        first, end = month_start(as_of), add_months(month_start(as_of), months)
        actual = sum(
            (
                _value(snap_now, d, currency)
                for d in won
                if first <= dt.date.fromisoformat(str(d["close_date"])) < end
            ),
            Decimal(0),
        )
        new_part = cents(fc.new_deals.per_quarter * months / QUARTER)
        out.append(BookingsPoint(as_of, fc.total, cents(actual), fc.open_deals.mean, new_part))
    return out
