"""HTTP to Kantata: a bearer-token httpx client, list pages in Kantata's envelope, error classes.

Every list answers ``{"count", "results": [{"key", "id"}], "<key>": {id: object}, "meta":
{"page_count", ...}}``: `results` gives the order, the objects are looked up by ID under the
plural key. Errors come as ``{"errors": [{"type", "message", "field"?}]}``: 422 ``validation``
names the field (the record is wrong: PermanentError), 401 ``oauth`` is the token (AuthError),
429 and 5xx are retriable with the server's Retry-After.
"""

from __future__ import annotations

from typing import Any

import httpx

from pssync.connectors.errors import (
    ConnectorError,
    PermanentError,
    RetriableError,
    classify_http,
)
from pssync.connectors.kantata.settings import KantataSettings

SYSTEM = "kantata"


def error_details(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """(message, error type, field) of a Kantata error answer, or its raw text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return response.text.strip()[:300] or f"HTTP {response.status_code}", None, None
    message = "; ".join(str(e.get("message") or "") for e in errors if isinstance(e, dict))
    return message, errors[0].get("type"), errors[0].get("field")


def classify(response: httpx.Response, record_id: str | None = None) -> ConnectorError:
    message, kind, field = error_details(response)
    return classify_http(
        response.status_code,
        system=SYSTEM,
        message=message,
        vendor_code=kind,
        retry_after=response.headers.get("retry-after"),
        record_id=record_id,
        field=field,
    )


class Transport:
    """Requests to one Kantata account; failures leave as connector error classes."""

    def __init__(self, settings: KantataSettings) -> None:
        self.settings = settings
        root = settings.base_url.rstrip("/") + "/" + settings.api_root.strip("/")
        self.client = httpx.Client(
            base_url=root,
            timeout=settings.timeout,
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        record_id: str | None = None,
    ) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, params=params, json=json)
        except httpx.HTTPError as exc:
            transient = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
            cls = RetriableError if isinstance(exc, transient) else PermanentError
            raise cls(f"{type(exc).__name__}: {exc}", system=SYSTEM, record_id=record_id) from exc
        if response.status_code >= 400:
            raise classify(response, record_id)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:  # a body cut short by a dropped connection
            raise RetriableError(f"unreadable answer: {exc}", system=SYSTEM) from exc
        if not isinstance(body, dict):
            raise PermanentError(f"unexpected answer: {body!r:.200}", system=SYSTEM)
        return body

    def page(
        self, key: str, params: dict[str, Any], page: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """(objects in order, last page?) of one list page: one call."""
        _, rows, last = self.list_page(key, params, page)
        return rows, last

    def list_page(
        self, key: str, params: dict[str, Any], page: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
        """(whole answer with its side-loaded keys, objects in order, last page?): one call."""
        query = {**params, "page": page, "per_page": self.settings.page_size}
        body = self.call("GET", f"/{key}.json", params=query)
        last = page >= int((body.get("meta") or {}).get("page_count") or 1)
        return body, objects_of(body, key), last

    def close(self) -> None:
        self.client.close()


def objects_of(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects of an answer in `results` order."""
    index = body.get(key) or {}
    return [
        dict(index[str(r["id"])])
        for r in body.get("results") or []
        if r.get("key") == key and str(r.get("id")) in index
    ]
