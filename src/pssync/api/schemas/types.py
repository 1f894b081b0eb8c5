"""Strict ISO 8601 dates and datetimes for query strings and bodies.

Pydantic's lax mode reads ``0`` as 1970-01-01 and ``1700000000`` as a Unix timestamp; an API
whose schema says "date" should refuse those instead of guessing, and say so with a 422.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def _iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.match(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    if isinstance(value, (int, float)):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str) and not _DATETIME.match(value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-06-15T00:00:00Z")
    if isinstance(value, (int, float)):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-06-15T00:00:00Z")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date), Field(examples=["2026-06-15"])]
IsoDateTime = Annotated[
    dt.datetime, BeforeValidator(_iso_datetime), Field(examples=["2026-06-15T00:00:00Z"])
]
