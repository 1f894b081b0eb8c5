"""SOQL date literals (TODAY, THIS_MONTH, LAST_N_DAYS:n, ...) as half-open date ranges.

Salesforce evaluates them in the running user's time zone; the emulator's user is on UTC.
Weeks start on Sunday (the en_US locale). A comparison against a literal compares against the
range: ``= THIS_MONTH`` means inside it, ``> THIS_MONTH`` after its end, and so on.
"""

from __future__ import annotations

import datetime as dt

DateRange = tuple[dt.date, dt.date]  # [start, end)

RANGES = frozenset(
    {
        "YESTERDAY",
        "TODAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
        "LAST_QUARTER",
        "THIS_QUARTER",
        "NEXT_QUARTER",
        "LAST_YEAR",
        "THIS_YEAR",
        "NEXT_YEAR",
    }
)
N_RANGES = frozenset(
    {
        "LAST_N_DAYS",
        "NEXT_N_DAYS",
        "N_DAYS_AGO",
        "LAST_N_WEEKS",
        "NEXT_N_WEEKS",
        "LAST_N_MONTHS",
        "NEXT_N_MONTHS",
        "LAST_N_QUARTERS",
        "NEXT_N_QUARTERS",
        "LAST_N_YEARS",
        "NEXT_N_YEARS",
    }
)


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _span(start: dt.date, months: int, before: int, after: int) -> DateRange:
    """Periods of `months` months: from `before` periods back to `after` periods on."""
    return _add_months(start, -before * months), _add_months(start, after * months)


def date_range(name: str, n: int, today: dt.date) -> DateRange:
    day = dt.timedelta(days=1)
    week = today - dt.timedelta(days=(today.weekday() + 1) % 7)  # Sunday
    month = today.replace(day=1)
    quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year = dt.date(today.year, 1, 1)
    fixed: dict[str, DateRange] = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_WEEK": (week - 7 * day, week),
        "THIS_WEEK": (week, week + 7 * day),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "LAST_MONTH": _span(month, 1, 1, 0),
        "THIS_MONTH": _span(month, 1, 0, 1),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "LAST_QUARTER": _span(quarter, 3, 1, 0),
        "THIS_QUARTER": _span(quarter, 3, 0, 1),
        "NEXT_QUARTER": (_add_months(quarter, 3), _add_months(quarter, 6)),
        "LAST_YEAR": _span(year, 12, 1, 0),
        "THIS_YEAR": _span(year, 12, 0, 1),
        "NEXT_YEAR": (_add_months(year, 12), _add_months(year, 24)),
    }
    if name in fixed:
        return fixed[name]
    counted: dict[str, DateRange] = {
        "LAST_N_DAYS": (today - n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": (week - 7 * n * day, week),
        "NEXT_N_WEEKS": (week + 7 * day, week + 7 * (n + 1) * day),
        "LAST_N_MONTHS": _span(month, 1, n, 0),
        "NEXT_N_MONTHS": (_add_months(month, 1), _add_months(month, n + 1)),
        "LAST_N_QUARTERS": _span(quarter, 3, n, 0),
        "NEXT_N_QUARTERS": (_add_months(quarter, 3), _add_months(quarter, 3 * (n + 1))),
        "LAST_N_YEARS": _span(year, 12, n, 0),
        "NEXT_N_YEARS": (_add_months(year, 12), _add_months(year, 12 * (n + 1))),
    }
    return counted[name]
