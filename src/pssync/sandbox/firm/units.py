"""Exact money and time helpers: integer cents inside, Decimal strings and UTC outside.

The generator does all arithmetic in integer cents so that totals reconcile to the cent and
the output is byte-identical on every platform; conversion to text happens only at the edge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

UTC = dt.UTC


def cents_str(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    c = abs(cents)
    return f"{sign}{c // 100}.{c % 100:02d}"


def money(cents: int, currency: str) -> dict[str, Any]:
    """A canonical Money payload (Decimal as string, explicit currency)."""
    return {"amount": cents_str(cents), "currency": currency}


def split_cents(total: int, parts: int) -> list[int]:
    """Equal instalments in cents; the last one absorbs the remainder so they sum to `total`."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    base = total // parts
    return [base] * (parts - 1) + [total - base * (parts - 1)]


def split_by_weights(total: int, weights: list[int]) -> list[int]:
    """Split cents by integer weights; the last share absorbs rounding."""
    denom = sum(weights)
    shares = [total * w // denom for w in weights[:-1]]
    return [*shares, total - sum(shares)]


def tax_cents(net_cents: int, rate_basis_points: int) -> int:
    """Tax rounded half up to the cent; the rate is in basis points (19% = 1900)."""
    return (net_cents * rate_basis_points + 5_000) // 10_000


def at(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with an explicit +00:00 offset, as the canonical JSONL wants."""
    return moment.astimezone(UTC).isoformat()


def zulu(moment: dt.datetime) -> str:
    """Vendor-style UTC timestamp with a Z suffix and milliseconds (Salesforce, NetSuite)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    first = month_from_index(month_index(day) + months)
    return first.replace(day=min(day.day, month_end(first).day))


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> dt.date:
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


def monday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def amount_num(cents: int) -> float:
    """A JSON number with two decimals, as vendor APIs return amounts."""
    return round(cents / 100, 2)
