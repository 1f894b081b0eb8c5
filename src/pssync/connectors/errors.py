"""How a connector tells the engine what went wrong, so the engine knows what to do about it.

The connector classifies (it knows its vendor's codes); the engine acts: retry a RetriableError
after `retry_after`, pause until `resets_at` on QuotaExhaustedError, stop and alert on AuthError,
dead-letter a PermanentError with its vendor code, record and field.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any


class ConnectorError(Exception):
    """Base of every classified connector failure."""

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        vendor_code: str | None = None,
        status: int | None = None,
        record_id: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.vendor_code = vendor_code
        self.status = status
        self.record_id = record_id
        self.field = field

    def __str__(self) -> str:
        parts = [f"{self.system}: " if self.system else "", self.message]
        details = [
            f"{label} {value}"
            for label, value in (
                ("code", self.vendor_code),
                ("status", self.status),
                ("record", self.record_id),
                ("field", self.field),
            )
            if value is not None
        ]
        return "".join(parts) + (f" ({', '.join(details)})" if details else "")


class RetriableError(ConnectorError):
    """Transient: 429, 5xx, timeouts, dropped connections. `retry_after` is the server's hint."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class QuotaExhaustedError(ConnectorError):
    """The vendor's API quota is used up; nothing will succeed before `resets_at`."""

    def __init__(self, message: str, *, resets_at: dt.datetime | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.resets_at = resets_at


class AuthError(ConnectorError):
    """Credentials are wrong, expired or lack permission: retrying will not help."""


class PermanentError(ConnectorError):
    """This request (or record) will fail again as it is: bad data, unknown field, duplicate."""


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def classify_http(
    status: int,
    *,
    system: str,
    message: str,
    vendor_code: str | None = None,
    retry_after: str | None = None,
    record_id: str | None = None,
    field: str | None = None,
) -> ConnectorError:
    """The default mapping of an HTTP failure to an error class (singer-sdk's rule of thumb).

    Connectors override it where their vendor deviates (e.g. Salesforce's quota is a 403 with
    REQUEST_LIMIT_EXCEEDED, not a 429).
    """
    kw: dict[str, Any] = {
        "system": system,
        "vendor_code": vendor_code,
        "status": status,
        "record_id": record_id,
        "field": field,
    }
    if status == 429 or status >= 500 or status == 408:
        return RetriableError(message, retry_after=parse_retry_after(retry_after), **kw)
    if status in (401, 403):
        return AuthError(message, **kw)
    return PermanentError(message, **kw)
