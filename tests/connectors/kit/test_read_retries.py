"""Reads through a `requests` session retry a transient failure in the request; writes do not."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from pssync.connectors.kit.read_retries import mount_read_retries


class _Flaky(BaseHTTPRequestHandler):
    """Answers `status` (with `retry_after`, if set) to the first `fail` requests, then 200;
    counts every request."""

    fail = 0
    seen = 0
    status = 503
    retry_after: str | None = None

    def _answer(self) -> None:
        type(self).seen += 1
        failing = type(self).seen <= type(self).fail
        self.send_response(type(self).status if failing else 200)
        if failing and type(self).retry_after is not None:
            self.send_header("Retry-After", str(type(self).retry_after))
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.seen, _Flaky.fail, _Flaky.status, _Flaky.retry_after = 0, 0, 503, None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_read_that_fails_twice_is_answered_by_its_third_attempt(flaky: str) -> None:
    _Flaky.fail = 2
    session = mount_read_retries(requests.Session(), attempts=3)
    assert session.get(flaky, timeout=5).status_code == 200
    assert _Flaky.seen == 3


def test_a_read_that_keeps_failing_returns_its_last_answer_to_be_classified(flaky: str) -> None:
    _Flaky.fail = 10
    session = mount_read_retries(requests.Session(), attempts=3)
    assert session.get(flaky, timeout=5).status_code == 503
    assert _Flaky.seen == 3


def test_a_write_is_sent_once(flaky: str) -> None:
    """A create may have landed before its answer was lost: the delivery decides, not HTTP."""
    _Flaky.fail = 1
    session = mount_read_retries(requests.Session(), attempts=3)
    assert session.post(flaky, timeout=5).status_code == 503
    assert _Flaky.seen == 1


def test_a_429_asking_for_a_second_is_waited_out_in_the_request(flaky: str) -> None:
    """A third of the chaos mix's errors are 429 with `Retry-After: 1`: a blip, as for the
    kit's httpx transport, not a reason to restart a read step."""
    _Flaky.fail, _Flaky.status, _Flaky.retry_after = 1, 429, "1"
    session = mount_read_retries(requests.Session(), attempts=3)
    began = time.monotonic()
    assert session.get(flaky, timeout=5).status_code == 200
    assert _Flaky.seen == 2
    assert time.monotonic() - began >= 0.9  # the server's Retry-After, not the 0.1 s backoff


def test_a_429_asking_for_minutes_is_given_back_at_once(flaky: str) -> None:
    """A spent quota is the capture's to wait out (QuotaExhaustedError, Retry-After), not a
    thread's sleep inside one call; nor is it asked again at once."""
    _Flaky.fail, _Flaky.status, _Flaky.retry_after = 5, 429, "120"
    session = mount_read_retries(requests.Session(), attempts=3)
    began = time.monotonic()
    answer = session.get(flaky, timeout=5)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "120")
    assert _Flaky.seen == 1
    assert time.monotonic() - began < 2
