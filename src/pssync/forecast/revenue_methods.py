"""Revenue and billing recognition per contract-line method, as pure functions.

Each function returns a schedule ``{first day of month: amount}`` in the contract currency,
rounded to cents, for the months from the as-of month onwards. They share three invariants the
tests check with Hypothesis: no month is negative, the cumulative total never exceeds the
contract value, and a schedule that runs to completion recognises exactly what is left of it.
Rounding never drifts because cumulative targets are rounded, not monthly slices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from pssync.forecast.money import CENT, ZERO, allocate, cents
from pssync.planning.periods import add_months, iter_days, iter_months, month_end, month_start

Schedule = dict[dt.date, Decimal]


def _clean(schedule: Mapping[dt.date, Decimal]) -> Schedule:
    return {m: v for m, v in sorted(schedule.items()) if v != 0}


def time_and_materials(
    hours_by_month: Mapping[dt.date, Decimal], rate: Decimal, cap: Decimal | None = None
) -> Schedule:
    """Hours x rate per month; an optional cap (the remaining not-to-exceed) stops revenue."""
    return cap_cumulative({m: cents(h * rate) for m, h in hours_by_month.items()}, cap)


def cap_cumulative(schedule: Mapping[dt.date, Decimal], cap: Decimal | None) -> Schedule:
    """Cut a schedule where its running total reaches `cap` (None: no cap)."""
    out: Schedule = {}
    left = None if cap is None else max(cents(cap), ZERO)
    for month, amount in sorted(schedule.items()):
        if left is not None:
            amount = min(amount, left)
            left -= amount
        out[month] = amount
    return _clean(out)


def percent_complete(
    contract_value: Decimal,
    recognized_to_date: Decimal,
    effort_to_date: Decimal,
    remaining_effort: Mapping[dt.date, Decimal],
) -> Schedule:
    """Fixed fee by percent complete (cost-to-cost or hours: `effort` is either unit).

    Cumulative revenue at the end of each month is value x effort so far / estimate at
    completion, rounded; a month's revenue is the step in that cumulative. Revenue already
    recognised ahead of progress is not clawed back (no negative months); the final month
    lands on the contract value exactly.
    """
    value = cents(contract_value)
    eac = effort_to_date + sum(remaining_effort.values(), ZERO)
    done = min(max(cents(recognized_to_date), ZERO), value)
    if eac <= 0 or not remaining_effort:
        return {}
    out: Schedule = {}
    effort = effort_to_date
    for month, step in sorted(remaining_effort.items()):
        effort += step
        target = value if effort >= eac else min(value, cents(value * effort / eac))
        out[month] = max(target - done, ZERO)
        done = max(done, target)
    return _clean(out)


def milestone(
    contract_value: Decimal,
    recognized_to_date: Decimal,
    milestones: Iterable[tuple[dt.date, Decimal]],
    as_of: dt.date,
    end_date: dt.date,
) -> Schedule:
    """Revenue at milestone dates; overdue milestones not yet recognised land in the as-of month.

    Milestones beyond the contract value are capped; value not covered by any milestone is
    recognised at contract end, so the line always completes at exactly its value.
    """
    value = cents(contract_value)
    done = min(max(cents(recognized_to_date), ZERO), value)
    first = month_start(as_of)
    by_month: dict[dt.date, Decimal] = {}
    for due, amount in milestones:
        key = max(month_start(due), first)
        by_month[key] = by_month.get(key, ZERO) + cents(amount)
    last = max([max(month_start(end_date), first), *by_month])
    out: Schedule = {}
    cumulative = ZERO
    month = min([first, *by_month])
    while month <= last:
        cumulative += by_month.get(month, ZERO)
        target = value if month == last else min(value, cumulative)
        if month >= first:
            out[month] = max(target - done, ZERO)
            done = max(done, target)
        month = add_months(month, 1)
    return _clean(out)


def ratable_by_day(contract_value: Decimal, start: dt.date, end: dt.date) -> dict[dt.date, Decimal]:
    """Retainer value spread evenly over every calendar day of service, exact to the cent."""
    days = list(iter_days(start, end))
    return dict(zip(days, allocate(contract_value, [1] * len(days)), strict=True))


def ratable(contract_value: Decimal, start: dt.date, end: dt.date, as_of: dt.date) -> Schedule:
    """Retainer revenue per month for the days after `as_of` (the whole term if it is later).

    Equals summing `ratable_by_day` per month, in integer cents without building the days:
    equal weights give every day the floor share and the leftover cents to the first days.
    """
    n = (end - start).days + 1
    if n <= 0:
        return {}
    units = int((cents(contract_value) / CENT).to_integral_value())
    sign = -1 if units < 0 else 1
    q, r = divmod(abs(units), n)
    out: Schedule = {}
    first = max(start, as_of + dt.timedelta(days=1))
    for month in iter_months(first, end) if first <= end else ():
        a = (max(month, first) - start).days
        b = (min(month_end(month), end) - start).days + 1
        total = q * (b - a) + max(0, min(b, r) - a)
        out[month] = Decimal(sign * total) * CENT
    return _clean(out)


# ---- billing ------------------------------------------------------------------------------


def bill_in_arrears(revenue: Mapping[dt.date, Decimal]) -> Schedule:
    """T&M: each month's revenue is invoiced the month after (monthly in arrears)."""
    return _clean({add_months(m, 1): v for m, v in revenue.items()})


def bill_milestones(
    milestones: Iterable[tuple[dt.date, Decimal, bool]], as_of: dt.date
) -> Schedule:
    """Unbilled milestones are invoiced at their due month; overdue ones in the as-of month."""
    out: Schedule = {}
    first = month_start(as_of)
    for due, amount, billed in milestones:
        if billed:
            continue
        key = max(month_start(due), first)
        out[key] = out.get(key, ZERO) + cents(amount)
    return _clean(out)


def bill_on_schedule(
    contract_value: Decimal,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    months_per_period: int = 1,
    amount_per_period: Decimal | None = None,
) -> Schedule:
    """Retainer billing: equal instalments in advance each period; the last absorbs the rest.

    With an explicit `amount_per_period`, instalments stop once the contract value is billed.
    Only instalments after the as-of date are returned (earlier ones are already invoices).
    """
    periods = []
    month = month_start(start)
    while month <= month_end(end):
        periods.append(month)
        month = add_months(month, months_per_period)
    if amount_per_period is None:
        amounts = allocate(contract_value, [1] * len(periods))
    else:
        amounts, left = [], cents(contract_value)
        for _ in periods:
            amounts.append(min(cents(amount_per_period), left))
            left -= amounts[-1]
        amounts[-1] += left
    return _clean({p: a for p, a in zip(periods, amounts, strict=True) if p > as_of})
