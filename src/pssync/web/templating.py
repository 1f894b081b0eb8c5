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


templates.env.filters["money"] = money
templates.env.filters["when"] = when
assert templates.env.autoescape, "templates must autoescape"
