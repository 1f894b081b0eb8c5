"""HTTP to Kantata: a bearer-token httpx client, list pages in Kantata's envelope, error classes.

Every list answers ``{"count", "results": [{"key", "id"}], "<key>": {id: object}, "meta":
{"page_count", ...}}``: `results` gives the order, the objects are looked up by ID under the
plural key. Errors come as ``{"errors": [{"type", "message", "field"?}]}``: 422 ``validation``
names the field (the record is wrong: PermanentError), 401 ``oauth`` is the token (AuthError),
429 and 5xx are retriable with the server's Retry-After.

The connector kit's transport sends and classifies (`details` reads Kantata's error body). It
makes one attempt per call: the engine's poller and delivery queues retry what is retriable.
"""

from __future__ import annotations

from typing import Any

import httpx

from pssync.connectors.kantata.settings import KantataSettings
from pssync.connectors.kit import transport as kit
from pssync.connectors.kit.read_retries import READ_ATTEMPTS

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


class Transport(kit.Transport):
    """Requests to one Kantata account; failures leave as connector error classes."""

    system = SYSTEM

    def __init__(self, settings: KantataSettings) -> None:
        self.settings = settings
        root = settings.base_url.rstrip("/") + "/" + settings.api_root.strip("/")
        client = httpx.Client(
            base_url=root,
            timeout=settings.timeout,
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
        )
        # Writes once (a create whose answer was lost is found by its external reference on
        # the delivery's retry); reads as the Salesforce and SAP ones (`kit.read_retries`): a
        # medium firm's time entries are ~1,850 pages, each a restart of the capture otherwise.
        super().__init__(client, attempts=1, read_attempts=READ_ATTEMPTS)

    def details(self, response: httpx.Response) -> tuple[str, str | None, str | None]:
        return error_details(response)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        record_id: str | None = None,
    ) -> dict[str, Any]:
        """One call; the answer's JSON object ({} for an empty answer)."""
        return self.json(method, path, params=params, json=json, record_id=record_id)

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


def objects_of(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects of an answer in `results` order."""
    index = body.get(key) or {}
    return [
        dict(index[str(r["id"])])
        for r in body.get("results") or []
        if r.get("key") == key and str(r.get("id")) in index
    ]
