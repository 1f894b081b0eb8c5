"""Reads through a `requests` session retry a transient failure in the request; writes do not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from pssync.connectors.kit.read_retries import mount_read_retries


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first `fail` requests, then 200; counts every request."""

    fail = 0
    seen = 0

    def _answer(self) -> None:
        type(self).seen += 1
        status = 503 if type(self).seen <= type(self).fail else 200
        self.send_response(status)
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
    _Flaky.seen, _Flaky.fail = 0, 0
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
