"""Salesforce's wire formats for dates and datetimes, normalised so they sort as strings.

The REST API writes datetimes as ``2026-06-01T12:00:00.000+0000`` (always UTC) and dates as
``2026-06-01``. Storing every value in exactly that form lets SOQL comparisons and ORDER BY work on
plain strings, which keeps queries over tens of thousands of rows cheap.
"""

from __future__ import annotations

import datetime as dt
import re

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime:
    """Parse the datetime spellings clients send (Z, +00:00, +0000, fractions, or none)."""
    match = _DATETIME.match(text.strip())
    if match is None:
        raise ValueError(f"not a datetime: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0").ljust(6, "0"))
    tz = dt.UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = dt.timezone(sign * offset)
    return dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
    )


def normalize_datetime(text: str) -> str:
    return format_datetime(parse_datetime(text))


def normalize_date(text: str) -> str:
    """Dates are kept as YYYY-MM-DD; a datetime string is cut to its date, as the API does."""
    value = text.strip()
    if _DATE.match(value):
        dt.date.fromisoformat(value)
        return value
    return parse_datetime(value).date().isoformat()


def parse_query_param(text: str) -> dt.datetime:
    """getUpdated/getDeleted `start`/`end`: ISO 8601 with an offset (simple-salesforce sends
    ``2026-01-01T00:00:00+00:00``; a ``+`` may arrive decoded as a space)."""
    return parse_datetime(text.replace(" ", "+"))
