"""A running NetSuiteEmulator per test module, and authlib-signed clients for it.

authlib's OAuth 1.0 client ships HMAC-SHA1 only; NetSuite requires HMAC-SHA256, so the method
is registered here the way an integration would register it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from authlib.common.urls import quote
from authlib.integrations.httpx_client import OAuth1Auth, OAuth1Client
from authlib.oauth1 import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string

from pssync.sandbox.netsuite import NetSuiteEmulator


def sign_hmac_sha256(client: Any, request: Any) -> str:
    base_string = generate_signature_base_string(request)
    secrets = (client.client_secret or "", client.token_secret or "")
    key = "&".join(quote(secret, safe="~") for secret in secrets)
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


ClientAuth.register_signature_method("HMAC-SHA256", sign_hmac_sha256)

OLD = "2026-01-15T08:00:00Z"
NEW = "2026-06-15T08:00:00Z"


def firm_view() -> dict[str, list[dict[str, Any]]]:
    """A small NetSuite view: 150 customers (100 old, 50 recently modified), projects, actuals."""
    customers = [
        {
            "id": str(1000 + n),
            "externalId": f"SF-ACC-{n:04d}",
            "companyName": f"Customer {n:04d}",
            "subsidiary": {"id": "1"},
            "isInactive": n % 10 == 0,
            "lastModifiedDate": OLD if n < 100 else NEW,
        }
        for n in range(150)
    ]
    jobs = [
        {
            "id": str(2000 + n),
            "externalId": f"KAN-WS-{n}",
            "companyName": f"Project {n}",
            "parent": {"id": str(1000 + n)},
            "lastModifiedDate": NEW,
        }
        for n in range(10)
    ]
    invoices = [
        {
            "id": "3000",
            "tranId": "INV-3000",
            "entity": {"id": "1000"},
            "job": {"id": "2000"},
            "item": {"items": [{"item": {"id": "7"}, "amount": 1200.0, "quantity": 8}]},
            "lastModifiedDate": NEW,
        }
    ]
    journals = [
        {
            "id": "4000",
            "subsidiary": {"id": "1"},
            "tranDate": "2024-03-14",
            # A bare line list, as the synthetic firm writes it; seeding stores {"items": [...]}.
            "line": [
                {"account": {"id": "500"}, "debit": 300.0, "entity": {"id": "2000"}},
                {"account": {"id": "600"}, "credit": 300.0, "entity": {"id": "2000"}},
            ],
            "lastModifiedDate": NEW,
        }
    ]
    return {
        "subsidiary": [{"id": "1", "name": "Services Inc."}],
        "account": [{"id": "500", "acctName": "Labour cost"}, {"id": "600", "acctName": "WIP"}],
        "employee": [{"id": "77", "entityId": "Ada Consultant"}],
        "customer": customers,
        "job": jobs,
        "invoice": invoices,
        "journalentry": journals,
    }


@pytest.fixture(scope="module")
def netsuite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetSuiteEmulator]:
    state = tmp_path_factory.mktemp("netsuite")
    emulator = NetSuiteEmulator(concurrency_limit=5, state_dir=state)
    emulator.seed(firm_view())
    with emulator:
        yield emulator


def oauth_kwargs(emulator: NetSuiteEmulator, **overrides: Any) -> dict[str, Any]:
    creds = emulator.credentials()
    kwargs: dict[str, Any] = {
        "client_id": creds["consumer_key"],
        "client_secret": creds["consumer_secret"],
        "token": creds["token_id"],
        "token_secret": creds["token_secret"],
        "signature_method": creds["signature_method"],
        "realm": creds["realm"],
        "force_include_body": True,  # authlib drops non-form bodies unless told otherwise
    }
    kwargs.update(overrides)
    return kwargs


ClientFactory = Callable[..., OAuth1Client]
AuthFactory = Callable[..., OAuth1Auth]


@pytest.fixture(scope="module")
def make_client(netsuite: NetSuiteEmulator) -> ClientFactory:
    """An OAuth1Client for the module's emulator; keyword overrides spoil chosen credentials."""

    def build(**overrides: Any) -> OAuth1Client:
        kwargs = oauth_kwargs(netsuite, **overrides)
        return OAuth1Client(base_url=netsuite.base_url, timeout=10, **kwargs)

    return build


@pytest.fixture(scope="module")
def make_auth(netsuite: NetSuiteEmulator) -> AuthFactory:
    """An httpx auth flow, to sign a request once and send it as often as a test likes."""

    def build(**overrides: Any) -> OAuth1Auth:
        kwargs = oauth_kwargs(netsuite, **overrides)
        return OAuth1Auth(kwargs.pop("client_id"), **kwargs)

    return build


@pytest.fixture(scope="module")
def client(make_client: ClientFactory) -> Iterator[OAuth1Client]:
    with make_client() as session:
        yield session
