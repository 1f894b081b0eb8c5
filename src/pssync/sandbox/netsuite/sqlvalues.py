"""Value semantics for the SuiteQL subset: comparisons, dates, LIKE patterns.

SuiteQL runs on Oracle, so the emulator follows Oracle's spirit: NULL compares as unknown (every
comparison with it is false), a datetime on either side parses the other side as a datetime,
a number on either side compares numerically, and everything else compares as text. A date
column (no time) compares as midnight UTC, the account time zone of the emulator.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any


def to_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def compare(left: Any, right: Any) -> int | None:
    """-1/0/1, or None when either side is NULL (so every comparison is false)."""
    if left is None or right is None:
        return None
    if isinstance(left, dt.date) or isinstance(right, dt.date):
        a, b = to_datetime(left), to_datetime(right)
        if a is not None and b is not None:
            return (a > b) - (a < b)
    if isinstance(left, int | float | Decimal) or isinstance(right, int | float | Decimal):
        x, y = _number(left), _number(right)
        if x is not None and y is not None:
            return (x > y) - (x < y)
    s, t = str(left), str(right)
    return (s > t) - (s < t)


@functools.lru_cache(maxsize=256)
def like(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL)
