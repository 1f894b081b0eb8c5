"""Fixtures: one HTTPS emulator per test module, and simple-salesforce clients that trust its CA."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from simple_salesforce import Salesforce

from pssync.sandbox.salesforce import SalesforceEmulator

VERSION = "59.0"


def https(emulator: SalesforceEmulator) -> requests.Session:
    """A requests session trusting the emulator's CA.

    `trust_env` is off because requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the
    environment override `session.verify` (psf/requests#3829), which would reject the local CA.
    `Connection: close` keeps no idle keep-alive connection open, so stopping the server at the
    end of a module does not wait out uvicorn's graceful-shutdown timeout.
    """
    assert emulator.tls is not None
    session = requests.Session()
    session.trust_env = False
    session.headers["Connection"] = "close"
    session.verify = str(emulator.tls.ca_file)
    return session


def client(emulator: SalesforceEmulator, version: str = VERSION) -> Salesforce:
    """simple-salesforce as a connector would build it: instance URL, session id, and a
    requests session verifying the emulator's certificate against its generated CA."""
    creds = emulator.credentials()
    return Salesforce(
        instance_url=creds["instance_url"],
        session_id=creds["session_id"],
        session=https(emulator),
        version=version,
    )


@pytest.fixture(scope="module")
def emulator() -> Iterator[SalesforceEmulator]:
    running = SalesforceEmulator(id_seed=7)
    running.start()
    try:
        yield running
    finally:
        running.stop()


Connect = Callable[..., Salesforce]


@pytest.fixture(scope="session")
def connect() -> Connect:
    """`connect(emulator, version=...)`: a simple-salesforce client for an emulator."""
    return client


@pytest.fixture(scope="session")
def https_session() -> Callable[[SalesforceEmulator], requests.Session]:
    return https


@pytest.fixture(scope="module")
def sf(emulator: SalesforceEmulator) -> Salesforce:
    return client(emulator)
