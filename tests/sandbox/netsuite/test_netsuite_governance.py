"""Concurrency governance (429 CONCURRENCY_LIMIT_EXCEEDED) and injected faults, NetSuite-shaped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth1Client

from pssync.sandbox.netsuite import NetSuiteEmulator

ClientFactory = Callable[..., OAuth1Client]
pytestmark = pytest.mark.integration
CUSTOMERS = "/services/rest/record/v1/customer"


@pytest.fixture
def slow(netsuite: NetSuiteEmulator) -> Iterator[NetSuiteEmulator]:
    netsuite.processing_ms, netsuite.concurrency_limit = 800, 3
    yield netsuite
    netsuite.processing_ms, netsuite.concurrency_limit = 0, 5


def test_requests_beyond_the_concurrency_limit_get_429(
    slow: NetSuiteEmulator, make_client: ClientFactory
) -> None:
    def fetch(_: int) -> httpx.Response:
        with make_client() as client:
            response: httpx.Response = client.get(CUSTOMERS, params={"limit": 1})
            return response

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(fetch, range(8)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses[200] == 3 and statuses[429] == 5, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert refused.json()["status"] == 429

    with make_client() as client:  # the slots are released afterwards
        assert client.get(CUSTOMERS, params={"limit": 1}).status_code == 200


def test_injected_fault_uses_netsuite_error_body(
    netsuite: NetSuiteEmulator, make_client: ClientFactory
) -> None:
    admin = f"{netsuite.base_url}/__admin/faults"
    httpx.put(admin, json={"error_rate": 1.0, "error_statuses": [503]}).raise_for_status()
    try:
        with make_client() as client:
            response = client.get(CUSTOMERS)
    finally:
        httpx.put(admin, json={"error_rate": 0.0}).raise_for_status()
    assert response.status_code == 503
    body = response.json()
    assert body["title"] == "Service Unavailable" and "o:errorDetails" in body
    assert response.headers["retry-after"] == "1"
