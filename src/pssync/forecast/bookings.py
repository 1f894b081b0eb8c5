"""Bookings forecast: expected closed-won value by close month and service line, with a band.

Sales leadership reads bookings (signed value), not revenue: the same open deals, weighted by
calibrated win probability at their CRM close month, and banded by the Monte Carlo draws that
also let deals slip into later months (a slipped deal is a booking in a later month, or none).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import numpy as np

from pssync.forecast.calibration import Calibration
from pssync.forecast.money import cents
from pssync.forecast.montecarlo import Band, Matrix, draw_deals
from pssync.forecast.snapshot import Snapshot
from pssync.planning.periods import add_months, month_start, months_between


def bookings_band(
    snap: Snapshot,
    cal: Calibration,
    currency: str = "USD",
    *,
    n: int = 2000,
    seed: int = 7,
    horizon: int = 12,
) -> list[dict[str, object]]:
    """Expected closed-won value by close month x service line, with its P10-P90 band."""
    draws = draw_deals(snap, cal, n, seed)
    first = month_start(snap.as_of)
    acc: dict[tuple[dt.date, str | None], Matrix] = defaultdict(lambda: np.zeros(n))
    expected: dict[tuple[dt.date, str | None], Decimal] = defaultdict(Decimal)
    for j, deal_id in enumerate(draws.deal_ids):
        opp = snap.opportunities[deal_id]
        amount = snap.fx.convert(opp.amount.amount, opp.amount.currency, currency, snap.as_of)
        base = max(months_between(first, opp.close_date), 0)
        close_idx = base + draws.delay_months[:, j]
        for k in range(horizon):
            hit = close_idx == k
            if hit.any():
                month = add_months(first, k)
                acc[(month, opp.service_line_id)] += np.where(
                    hit, draws.won[:, j] * float(amount), 0.0
                )
        if base < horizon:
            month = add_months(first, base)
            expected[(month, opp.service_line_id)] += cents(amount * cal.probability(opp))
    keys = sorted(set(acc) | set(expected), key=lambda k: (k[0], str(k[1])))
    return [
        {
            "close_month": m,
            "service_line": sl,
            "expected": expected.get((m, sl), Decimal("0.00")),
            "band": Band.of(acc[(m, sl)]),
        }
        for m, sl in keys
    ]
