"""HTTP to SAP Gateway: a session with a default timeout, the CSRF handshake, and error classes.

pyodata sends whatever the `requests.Session` it is given carries, and leaves the CSRF token to
that session. SAP hands a token to a GET/HEAD with ``x-csrf-token: Fetch`` together with a
session cookie, and refuses a write whose token does not match with ``403`` +
``x-csrf-token: Required`` (the token expired, or the cookie was lost). So the token is fetched
on the first write and, after such a 403, once more before the write is retried.

Every failure leaves this module as a `connectors.errors` class: SAP's error envelope gives the
message, the code and (in ``errordetails[].target``) the property that was refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from pyodata.exceptions import HttpError, PyODataException

from pssync.connectors.errors import (
    ConnectorError,
    PermanentError,
    RetriableError,
    classify_http,
)
from pssync.connectors.kit.read_retries import mount_read_retries

SYSTEM = "sap_s4"
T = TypeVar("T")

# Transport failures that a later attempt can get past.
_TRANSIENT = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.JSONDecodeError,
)


class SapSession(requests.Session):
    """A session whose requests time out unless told otherwise (pyodata passes no timeout)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        mount_read_retries(self)

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def sap_error(response: Any) -> tuple[str | None, str, str | None]:
    """(code, message, target property) from SAP's JSON error envelope, or the raw text."""
    try:
        error = json.loads(response.content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict) or not error:
        text = (response.content or b"").decode("utf-8", "replace").strip()
        return None, text[:300] or f"HTTP {response.status_code}", None
    message = error.get("message", {})
    text = message.get("value", "") if isinstance(message, dict) else str(message)
    target = None
    for detail in (error.get("innererror") or {}).get("errordetails") or []:
        target = detail.get("target") or detail.get("propertyref") or None
        if target:
            break
    return error.get("code"), text or f"HTTP {response.status_code}", target


def classify_response(response: Any, *, record_id: str | None = None) -> ConnectorError:
    """SAP's answers follow HTTP's rule of thumb: 429/5xx retriable (S/4HANA Cloud's API
    management also answers a spent quota with 429 + Retry-After), 401/403 auth, other 4xx
    permanent, naming the record and the property SAP pointed at."""
    code, message, target = sap_error(response)
    return classify_http(
        response.status_code,
        system=SYSTEM,
        message=message,
        vendor_code=code,
        retry_after=response.headers.get("retry-after"),
        record_id=record_id,
        field=target,
    )


@contextmanager
def translated(record_id: str | None = None) -> Iterator[None]:
    """Run a pyodata/requests call and re-raise its failure as a connector error class."""
    try:
        yield
    except HttpError as exc:
        raise classify_response(exc.response, record_id=record_id) from exc
    except _TRANSIENT as exc:
        raise RetriableError(
            f"{type(exc).__name__}: {exc}", system=SYSTEM, record_id=record_id
        ) from exc
    except (requests.RequestException, PyODataException) as exc:
        raise PermanentError(
            f"{type(exc).__name__}: {exc}", system=SYSTEM, record_id=record_id
        ) from exc


def csrf_required(exc: HttpError) -> bool:
    response = exc.response
    return bool(
        response is not None
        and response.status_code == 403
        and response.headers.get("x-csrf-token", "").lower() == "required"
    )


class CsrfToken:
    """The session's CSRF token: fetched lazily, refetched once when SAP says it is stale."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session = session
        self.url = url
        self.fetches = 0

    def fetch(self) -> None:
        with translated():
            response = self.session.head(self.url, headers={"x-csrf-token": "Fetch"})
        if response.status_code >= 400:
            raise classify_response(response)
        token = response.headers.get("x-csrf-token")
        if not token:
            raise PermanentError(
                "SAP did not return a CSRF token; is the service path right?",
                system=SYSTEM,
                status=response.status_code,
            )
        self.session.headers["x-csrf-token"] = token
        self.fetches += 1

    def write(self, action: Callable[[], T]) -> T:
        """Run a modifying pyodata request with a valid token (HttpError propagates)."""
        if "x-csrf-token" not in self.session.headers:
            self.fetch()
        try:
            return action()
        except HttpError as exc:
            if not csrf_required(exc):
                raise
        self.fetch()
        return action()
