"""Value semantics for the SuiteQL subset: comparisons, dates, LIKE patterns.

SuiteQL runs on Oracle, so the emulator follows Oracle's spirit: NULL compares as unknown (every
comparison with it is false), a datetime on either side parses the other side as a datetime,
a number on either side compares numerically, and everything else compares as text. Date
formats use Oracle's masks (YYYY-MM-DD HH24:MI:SS), translated to strftime's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any

# Longest first, so HH24 is translated before HH.
_FORMATS = (
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("HH", "%I"),
)


def oracle_format(fmt: str) -> str:
    """Translate an Oracle datetime format (YYYY-MM-DD HH24:MI:SS) to strftime's."""
    out = fmt.upper()
    for oracle, python in _FORMATS:
        out = out.replace(oracle, python)
    return out


def to_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
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
    if isinstance(left, dt.datetime) or isinstance(right, dt.datetime):
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
