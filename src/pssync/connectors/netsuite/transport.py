"""HTTP to NetSuite: one signed httpx client, SuiteQL pages, and the error classes.

NetSuite answers errors in one documented shape, ``{"title", "status", "o:errorDetails":
[{"detail", "o:errorCode", "o:errorPath" | "o:errorQueryParam" | "o:errorHeader"}]}``, and the
connector keys everything on it: the detail is the message, ``o:errorCode`` the vendor code and
``o:errorPath`` (a path into the request body) the field a refused record is reported against.
HTTP's rule of thumb holds for NetSuite: 429 (``CONCURRENCY_LIMIT_EXCEEDED``: too many requests
in flight for the account) and 5xx are retriable, 401/403 auth, other 4xx permanent.

The httpx client is shared by the writer threads (httpx's client is thread-safe; its pool is
sized to `max_concurrency`).
"""

from __future__ import annotations

from typing import Any

import httpx

from pssync.connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    RetriableError,
    classify_http,
)
from pssync.connectors.netsuite.auth import SYSTEM, BearerAuth, oauth2_client, tba_auth
from pssync.connectors.netsuite.settings import NetSuiteSettings

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
RECORD_ROOT = "/services/rest/record/v1"


def error_details(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """(message, o:errorCode, field) of a NetSuite error answer, or its raw text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    if not isinstance(details, list) or not details or not isinstance(details[0], dict):
        text = response.text.strip()[:300]
        return text or f"HTTP {response.status_code}", None, None
    first = details[0]
    field = first.get("o:errorPath") or first.get("o:errorQueryParam") or first.get("o:errorHeader")
    message = "; ".join(str(d.get("detail") or "") for d in details if isinstance(d, dict))
    return message or str(body.get("title")), first.get("o:errorCode"), field


def classify(response: httpx.Response, record_id: str | None = None) -> ConnectorError:
    message, code, field = error_details(response)
    return classify_http(
        response.status_code,
        system=SYSTEM,
        message=message,
        vendor_code=code,
        retry_after=response.headers.get("retry-after"),
        record_id=record_id,
        field=field,
    )


def transport_error(exc: httpx.HTTPError, record_id: str | None = None) -> ConnectorError:
    """A failure below HTTP: timeouts and dropped connections are transient."""
    transient = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
    cls = RetriableError if isinstance(exc, transient) else PermanentError
    return cls(f"{type(exc).__name__}: {exc}", system=SYSTEM, record_id=record_id)


class Transport:
    """Signed requests to one NetSuite account; failures leave as connector error classes."""

    def __init__(self, settings: NetSuiteSettings) -> None:
        self.settings = settings
        limits = httpx.Limits(max_connections=settings.max_concurrency + 1)
        self.client = httpx.Client(
            base_url=settings.base_url.rstrip("/"), timeout=settings.timeout, limits=limits
        )
        self.bearer: BearerAuth | None = None
        if settings.flow == "oauth2":
            self.oauth = oauth2_client(settings, self._token_answer)
            self.bearer = BearerAuth(self.oauth, self.fetch_token)
            self.auth: httpx.Auth = self.bearer
        else:
            self.auth = tba_auth(settings)

    def fetch_token(self) -> None:
        """Exchange a fresh JWT assertion for a bearer token (client credentials grant); the
        token stays with authlib's client."""
        try:
            self.oauth.fetch_token()
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc

    @staticmethod
    def _token_answer(response: httpx.Response) -> httpx.Response:
        """A refused token request as the connector's error: down or throttled is retried,
        anything else stops the connector (AuthError)."""
        if response.status_code >= 500 or response.status_code == 429:
            raise classify(response)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 400 or "access_token" not in body:
            raise AuthError(
                f"token request refused: {body.get('error_description') or response.text[:200]}",
                system=SYSTEM,
                vendor_code=body.get("error"),
                status=response.status_code,
            )
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        record_id: str | None = None,
    ) -> httpx.Response:
        try:
            response = self.client.request(
                method, path, json=json, params=params, headers=headers, auth=self.auth
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, record_id) from exc
        if response.status_code >= 400:
            raise classify(response, record_id)
        return response

    def suiteql(self, query: str, *, limit: int, offset: int = 0) -> dict[str, Any]:
        """One page of a SuiteQL query (one API call)."""
        response = self.request(
            "POST",
            SUITEQL_PATH,
            json={"q": query},
            params={"limit": limit, "offset": offset},
            headers={"Prefer": "transient"},
        )
        try:
            body = response.json()
        except ValueError as exc:  # a body cut short by a dropped connection
            raise RetriableError(f"unreadable SuiteQL answer: {exc}", system=SYSTEM) from exc
        if not isinstance(body, dict):
            raise PermanentError(f"unexpected SuiteQL answer: {body!r:.200}", system=SYSTEM)
        return body

    def close(self) -> None:
        self.client.close()
        if self.bearer is not None:
            self.oauth.close()
