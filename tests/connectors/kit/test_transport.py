"""The kit's transport: `classify` decides, tenacity retries short retriable failures, a long
Retry-After is left to the engine, fatal answers are raised at once."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pssync.connectors.errors import AuthError, PermanentError, RetriableError
from pssync.connectors.kit.transport import Transport


def scripted(*answers: Callable[[httpx.Request], httpx.Response]) -> tuple[Transport, list[str]]:
    seen: list[str] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return (queue.pop(0) if len(queue) > 1 else queue[0])(request)

    client = httpx.Client(transport=httpx.MockTransport(handle), base_url="https://x.invalid")
    transport = Transport(client, attempts=3, max_wait=2.0)
    transport.system = "test"  # type: ignore[misc]
    return transport, seen


def status(code: int, retry_after: str | None = None) -> Callable[[httpx.Request], httpx.Response]:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return lambda request: httpx.Response(code, headers=headers, json={"ok": code < 400})


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("peer closed connection", request=request)


def test_a_short_retry_after_is_retried() -> None:
    transport, seen = scripted(status(503, "0"), status(200))
    assert transport.json("GET", "/a") == {"ok": True} and len(seen) == 2


def test_a_long_retry_after_is_raised_at_once_with_the_hint() -> None:
    transport, seen = scripted(status(429, "30"))
    with pytest.raises(RetriableError) as caught:
        transport.send("GET", "/a")
    assert caught.value.retry_after == 30 and len(seen) == 1


def test_dropped_connections_and_500s_retry_then_raise() -> None:
    transport, seen = scripted(dropped, status(500), status(500))
    with pytest.raises(RetriableError):
        transport.send("GET", "/a")
    assert len(seen) == 3


@pytest.mark.parametrize(("code", "error"), [(401, AuthError), (400, PermanentError)])
def test_fatal_answers_are_not_retried(code: int, error: type[Exception]) -> None:
    transport, seen = scripted(status(code))
    with pytest.raises(error):
        transport.send("GET", "/a", record_id="R1")
    assert len(seen) == 1


def test_the_classify_hook_decides() -> None:
    class QuotaAs403(Transport):
        def classify(
            self, response: httpx.Response, record_id: str | None = None
        ) -> RetriableError | None:
            return RetriableError("quota", retry_after=60) if response.status_code == 403 else None

    client = httpx.Client(transport=httpx.MockTransport(status(403)), base_url="https://x.invalid")
    with pytest.raises(RetriableError):
        QuotaAs403(client).send("GET", "/a")


def test_read_attempts_retry_reads_and_leave_writes_to_one_attempt() -> None:
    """Kantata's setting: a create whose answer was lost is the delivery's to find, a read is
    safe to repeat in the request (RFC 9110 9.2.2)."""
    transport, seen = scripted(status(503), status(500), status(503), status(500), status(200))
    transport.attempts, transport.read_attempts = 1, 5
    assert transport.json("GET", "/a") == {"ok": True} and len(seen) == 5
    transport, seen = scripted(status(503), status(200))
    transport.attempts, transport.read_attempts = 1, 5
    with pytest.raises(RetriableError):
        transport.send("POST", "/a")
    assert len(seen) == 1
