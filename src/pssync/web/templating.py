"""The dashboard's Jinja2 environment (autoescaping on: record fields are untrusted input)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).with_name("templates")
templates = Jinja2Templates(directory=str(TEMPLATES))


def money(value: Any) -> str:
    if value is None:
        return "-"
    return f"{Decimal(value):,.2f}"


def when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "-" if value is None else str(value)


def whole(value: Any) -> str:
    """Money rounded to whole units for dense tables (the cents are in the cell's title)."""
    if value is None:
        return "-"
    return f"{Decimal(value):,.0f}"


def signed(value: Any) -> str:
    """A change in whole units with its sign; "no change" for zero."""
    if value is None:
        return ""
    amount = Decimal(value).quantize(Decimal(1))
    return "no change" if not amount else f"{amount:+,.0f}"


def duration(seconds: float | None) -> str:
    """`4000` as `1 h 6 min`: the largest two units, for lags and ages."""
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, days = minutes // 60, minutes // 1440
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d" if days < 365 else f"{days / 365:.1f} y"


def percent(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.1f}%" if value else "0%"


templates.env.filters["money"] = money
templates.env.filters["when"] = when
templates.env.filters["whole"] = whole
templates.env.filters["signed"] = signed
templates.env.filters["duration"] = duration
templates.env.filters["percent"] = percent
assert templates.env.autoescape, "templates must autoescape"
