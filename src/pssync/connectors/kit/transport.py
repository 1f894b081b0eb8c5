"""An httpx transport base: one `classify(response)` hook decides retriable or fatal, tenacity
retries what is retriable, and every failure leaves as a class of `connectors.errors`.

A connector subclasses `Transport`, sets `system`, and overrides `details(response)` to read its
vendor's error body (message, code, field) and, where the vendor deviates from the HTTP rule of
thumb, `classify`. Retries stay short on purpose: a few quick attempts for a blip (a dropped
connection, a 500, a 429 asking for a second or two); a longer Retry-After is raised at once so
the engine, which owns the queue, waits instead of a worker thread.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from pssync.connectors.errors import (
    ConnectorError,
    PermanentError,
    RetriableError,
    classify_http,
)
from pssync.connectors.kit.read_retries import READ_METHODS

TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Transport:
    """Requests to one system through `client`; subclasses give the vendor's error format."""

    system: ClassVar[str] = ""

    def __init__(
        self,
        client: httpx.Client,
        *,
        attempts: int = 3,
        max_wait: float = 2.0,
        read_attempts: int | None = None,
    ) -> None:
        """`read_attempts` (default `attempts`) for GET and HEAD, which HTTP defines as safe
        to repeat (RFC 9110 9.2.2): a connector whose writes get one attempt (their
        idempotency is the delivery's) can still retry its reads in the request."""
        self.client = client
        self.attempts = max(1, attempts)
        self.read_attempts = max(1, read_attempts or attempts)
        self.max_wait = max_wait

    # ---- hooks --------------------------------------------------------------------------
    def details(self, response: httpx.Response) -> tuple[str, str | None, str | None]:
        """(message, vendor code, field) of an error answer; the default is its text."""
        return response.text.strip()[:300] or f"HTTP {response.status_code}", None, None

    def classify(
        self, response: httpx.Response, record_id: str | None = None
    ) -> ConnectorError | None:
        """None for a success, else the error to raise: retriable (429, 5xx, 408, with the
        server's Retry-After) or fatal (auth, permanent)."""
        if response.status_code < 400:
            return None
        message, code, field = self.details(response)
        return classify_http(
            response.status_code,
            system=self.system,
            message=message,
            vendor_code=code,
            retry_after=response.headers.get("retry-after"),
            record_id=record_id,
            field=field,
        )

    def prepare(self) -> None:
        """Runs before every attempt."""

    # ---- sending ------------------------------------------------------------------------
    def _once(
        self, method: str, url: str, record_id: str | None, kwargs: dict[str, Any]
    ) -> httpx.Response:
        try:
            self.prepare()
            response = self.client.request(method, url, **kwargs)
            response.read()
        except httpx.HTTPStatusError as exc:  # raised by a client library (a token request)
            raise self.classify(exc.response, record_id) or PermanentError(
                str(exc), system=self.system
            ) from exc
        except httpx.HTTPError as exc:
            cls = RetriableError if isinstance(exc, TRANSIENT) else PermanentError
            raise cls(
                f"{type(exc).__name__}: {exc}", system=self.system, record_id=record_id
            ) from exc
        error = self.classify(response, record_id)
        if error is not None:
            raise error
        return response

    def _worth_retrying(self, exc: BaseException) -> bool:
        if not isinstance(exc, RetriableError):
            return False
        return exc.retry_after is None or exc.retry_after <= self.max_wait

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = exc.retry_after if isinstance(exc, RetriableError) else None
        backoff = min(self.max_wait, 0.1 * 2 ** (state.attempt_number - 1))
        return hint if hint is not None else backoff

    def send(
        self, method: str, url: str, *, record_id: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request, retried while retriable; raises a `ConnectorError` otherwise."""
        read = method.upper() in READ_METHODS
        retrying = Retrying(
            stop=stop_after_attempt(self.read_attempts if read else self.attempts),
            wait=self._wait,
            retry=retry_if_exception(self._worth_retrying),
            reraise=True,
        )
        response: httpx.Response = retrying(self._once, method, url, record_id, kwargs)
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """`send`, then the answer as a JSON object ({} for an empty answer)."""
        response = self.send(method, url, **kwargs)
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:  # a body cut short by a dropped connection
            raise RetriableError(f"unreadable answer: {exc}", system=self.system) from exc
        if not isinstance(body, dict):
            raise PermanentError(f"unexpected answer: {body!r:.200}", system=self.system)
        return body

    def close(self) -> None:
        self.client.close()
