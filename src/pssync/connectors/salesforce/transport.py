"""HTTP to Salesforce: the session simple-salesforce rides on, the API meter, and error classes.

Why our own session: `requests` lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override
`session.verify` (psf/requests#3829), so the session ignores the environment and trusts exactly
`ca_file`; simple-salesforce passes no timeout, so the session supplies one; and a response hook
sees every answer, errors included, which is where ``Sforce-Limit-Info`` and ``Retry-After`` are
(simple-salesforce's exceptions keep neither).

Salesforce deviates from HTTP's rule of thumb in two places, both handled here: a spent daily
allowance is ``403 REQUEST_LIMIT_EXCEEDED`` (not a 429), and an expired session is
``401 INVALID_SESSION_ID`` (which the connector may cure once by logging in again).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from pssync.connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    QuotaExhaustedError,
    RetriableError,
    classify_http,
)
from pssync.connectors.kit.read_retries import mount_read_retries

SYSTEM = "salesforce"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_TRANSIENT = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.JSONDecodeError,  # a body cut short by a dropped connection
)


@dataclass
class ApiMeter:
    """What the last response said about the org's daily API allowance and about waiting."""

    used: int | None = None
    limit: int | None = None
    retry_after: str | None = None
    calls: int = 0

    @property
    def remaining(self) -> int | None:
        if self.used is None or self.limit is None:
            return None
        return self.limit - self.used

    def observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """`requests` response hook: runs for every answer before simple-salesforce sees it."""
        self.calls += 1
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.used, self.limit = int(match.group(1)), int(match.group(2))
        self.retry_after = response.headers.get("Retry-After")


class SalesforceSession(requests.Session):
    """A session that trusts only `verify`, times out, and reports every answer to `meter`."""

    def __init__(self, meter: ApiMeter, *, timeout: float, verify: bool | str) -> None:
        super().__init__()
        self.trust_env = False  # else REQUESTS_CA_BUNDLE would override verify
        self.verify = verify
        self.timeout = timeout
        self.hooks["response"].append(meter.observe)
        mount_read_retries(self)

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def first_error(content: Any) -> dict[str, Any]:
    """Salesforce's error body is a list of ``{"errorCode", "message", "fields"}``; OAuth
    answers ``{"error", "error_description"}``; anything else is kept as text."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0]
    if isinstance(content, dict):
        if "error" in content:
            return {"errorCode": content["error"], "message": content.get("error_description")}
        return content
    return {"message": str(content or "")[:300]}


def classify(
    status: int,
    content: Any,
    *,
    retry_after: str | None = None,
    record_id: str | None = None,
) -> ConnectorError:
    """The connector error class of one failed Salesforce response."""
    error = first_error(content)
    code = error.get("errorCode") or error.get("statusCode")
    message = str(error.get("message") or f"HTTP {status}")
    fields = error.get("fields") or []
    kw: dict[str, Any] = {
        "system": SYSTEM,
        "vendor_code": code,
        "record_id": record_id,
        "field": fields[0] if fields else None,
    }
    if code == "REQUEST_LIMIT_EXCEEDED" and status != 429:
        return QuotaExhaustedError(
            f"the org's daily API allowance is spent: {message}; calls succeed again as the "
            "rolling 24-hour window frees them",
            status=status,
            **kw,
        )
    if code == "UNABLE_TO_LOCK_ROW":  # another transaction holds the row: it frees up
        return RetriableError(
            f"the record is locked by another transaction: {message}", status=status, **kw
        )
    if status == 300:
        return PermanentError(
            f"the external ID matches several records: {message}", status=status, **kw
        )
    return classify_http(status, message=message, retry_after=retry_after, **kw)


def transport_error(exc: requests.RequestException, record_id: str | None = None) -> ConnectorError:
    """A failure below HTTP: TLS trust is configuration (stop), the rest is transient."""
    if isinstance(exc, requests.exceptions.SSLError):
        return AuthError(f"TLS verification failed ({exc}); is ca_file right?", system=SYSTEM)
    cls = RetriableError if isinstance(exc, _TRANSIENT) else PermanentError
    return cls(f"{type(exc).__name__}: {exc}", system=SYSTEM, record_id=record_id)


@contextmanager
def translated(meter: ApiMeter, record_id: str | None = None) -> Iterator[None]:
    """Run simple-salesforce/requests calls; re-raise failures as connector error classes."""
    try:
        yield
    except SalesforceError as exc:
        raise classify(
            exc.status, exc.content, retry_after=meter.retry_after, record_id=record_id
        ) from exc
    except requests.RequestException as exc:
        raise transport_error(exc, record_id) from exc
