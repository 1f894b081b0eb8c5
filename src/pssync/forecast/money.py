"""Exact money helpers: cent rounding, deterministic allocation and FX conversion.

Every schedule the forecast produces must add back to its source amount to the cent, so amounts
are never divided and rounded independently: `allocate` splits a total by weights with the
largest-remainder method (ties broken by position), which is exact and reproducible.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from pssync.model import FxRate

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """Round half away from zero to cents, the convention of invoices and ledgers."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal | int | float]) -> list[Decimal]:
    """Split `total` (cents) over `weights` so the parts sum to `total` exactly.

    Each part is the floor of its exact share in cents; the cents left over go to the largest
    fractional remainders, earlier positions first on ties. Zero weights get zero. All-zero
    weights put everything on the last position, so nothing is ever lost.
    """
    if not weights:
        raise ValueError("cannot allocate over no weights")
    units = int((cents(total) / CENT).to_integral_value())
    if all(w == 1 for w in weights):
        # even split (months of a deal, retainer periods): every remainder ties, so the
        # first `left` positions get the extra cent; same result, no Decimal division
        share, left = divmod(abs(units), len(weights))
        sign = -1 if units < 0 else 1
        return [Decimal(sign * (share + (i < left))) * CENT for i in range(len(weights))]
    ws = [Decimal(str(w)) if not isinstance(w, Decimal) else w for w in weights]
    if any(w < 0 for w in ws):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(ws, Decimal(0))
    if weight_sum == 0:
        return [ZERO] * (len(ws) - 1) + [cents(total)]
    sign = -1 if units < 0 else 1
    exact = [abs(units) * w / weight_sum for w in ws]
    floors = [int(e) for e in exact]
    left = abs(units) - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(sign * f) * CENT for f in floors]


class FxTable:
    """Rates from FxRate reference data; the latest effective on or before a date applies.

    A pair is found directly, as the inverse of its opposite, or through one pivot currency,
    because reference data usually lists each currency against one base only.
    """

    def __init__(self, rates: Iterable[FxRate]) -> None:
        series: dict[tuple[str, str], list[tuple[dt.date, Decimal]]] = defaultdict(list)
        for r in rates:
            series[(r.from_currency, r.to_currency)].append((r.effective_date, r.rate))
        self._series = {k: sorted(v) for k, v in series.items()}
        self._dates = {k: [p[0] for p in v] for k, v in self._series.items()}
        # a forecast converts tens of thousands of amounts on a few hundred distinct days
        self._memo: dict[tuple[str, str, dt.date], Decimal] = {}

    def _direct(self, src: str, dst: str, on: dt.date) -> Decimal | None:
        for pair, invert in (((src, dst), False), ((dst, src), True)):
            points = self._series.get(pair)
            if not points:
                continue
            i = bisect_right(self._dates[pair], on)
            if i == 0:
                continue
            rate = points[i - 1][1]
            return Decimal(1) / rate if invert else rate
        return None

    def rate(self, src: str, dst: str, on: dt.date) -> Decimal:
        """Units of `dst` per unit of `src` on `on`; raises LookupError when no rate applies."""
        if src == dst:
            return Decimal(1)
        key = (src, dst, on)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._rate(src, dst, on)
        return found

    def _rate(self, src: str, dst: str, on: dt.date) -> Decimal:
        direct = self._direct(src, dst, on)
        if direct is not None:
            return direct
        pivots = {c for pair in self._series for c in pair} - {src, dst}
        for pivot in sorted(pivots):
            first, second = self._direct(src, pivot, on), self._direct(pivot, dst, on)
            if first is not None and second is not None:
                return first * second
        raise LookupError(f"no FX rate {src}->{dst} effective on or before {on}")

    def convert(self, amount: Decimal, src: str, dst: str, on: dt.date) -> Decimal:
        """`amount` in `dst`, unrounded (round once, where the cell is formed)."""
        return amount * self.rate(src, dst, on)
