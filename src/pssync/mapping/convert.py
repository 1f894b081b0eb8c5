"""Value conversions between vendor wire formats and canonical JSON values.

Vendors disagree on dates (`2026-06-01`, `2026-06-01T12:00:00.000+0000`, SAP's `/Date(ms)/`),
numbers (strings, floats, cents, minutes) and booleans; these functions turn each into the one
canonical form and back. A value that cannot be converted raises ValueError with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

_SAP_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_HOUR = Decimal("0.01")


def _sap_datetime(text: str) -> dt.datetime | None:
    match = _SAP_DATE.match(text)
    if match is None:
        return None
    return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.UTC)


def to_datetime(value: Any, fmt: str | None = None) -> dt.datetime:
    """An aware datetime; vendor timestamps without an offset are taken as UTC."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        sap = _sap_datetime(text)
        if sap is not None:
            return sap
        if fmt:
            parsed = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - offset handled below
        else:
            text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace("Z", "+00:00"))
            parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def to_date(value: Any, fmt: str | None = None) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    sap = _sap_datetime(text)
    if sap is not None:
        return sap.date()
    if fmt:
        return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date has no zone
    return dt.date.fromisoformat(text[:10])


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def to_domain(value: Any) -> str:
    """A web address reduced to its host (``https://www.acme.example/about`` -> ``acme.example``):
    CRMs hold websites, matching and the canonical model want domains."""
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", str(value).strip().casefold())
    return text.split("/")[0].split(":")[0].removeprefix("www.")


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "t", "yes", "y", "1"):
        return True
    if text in ("false", "f", "no", "n", "0"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


def convert(value: Any, kind: str | None, fmt: str | None = None) -> Any:
    """Vendor value -> canonical JSON value (dates as ISO strings, Decimals as strings)."""
    if kind is None:
        return value
    if kind == "str":
        return str(value)
    if kind == "date":
        return to_date(value, fmt).isoformat()
    if kind == "datetime":
        return to_datetime(value, fmt).isoformat()
    if kind == "decimal":
        return str(to_decimal(value))
    if kind == "int":
        number = to_decimal(value)
        if number != number.to_integral_value():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if kind == "bool":
        return to_bool(value)
    if kind == "minutes_to_hours":
        return str((to_decimal(value) / 60).quantize(_HOUR))
    if kind == "cents":
        return str(to_decimal(value) / 100)
    if kind == "domain":
        return to_domain(value)
    raise ValueError(f"unknown conversion {kind!r}")


def convert_back(value: Any, kind: str | None, fmt: str | None = None) -> Any:
    """Canonical JSON value -> vendor value (the inverse of `convert`)."""
    if kind is None or value is None:
        return value
    if kind == "date":
        day = to_date(value)
        return day.strftime(fmt) if fmt else day.isoformat()
    if kind == "datetime":
        moment = to_datetime(value)
        return moment.strftime(fmt) if fmt else moment.isoformat()
    if kind == "decimal":
        return to_decimal(value)
    if kind == "minutes_to_hours":
        return int((to_decimal(value) * 60).to_integral_value())
    if kind == "cents":
        return int((to_decimal(value) * 100).to_integral_value())
    return value
