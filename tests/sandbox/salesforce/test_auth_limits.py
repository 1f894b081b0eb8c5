"""Authentication, the daily API allowance and injected faults: the failure paths a connector
must classify (refresh the session, stop for the day, retry later)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)
from simple_salesforce.login import token_login

from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
Connect = Callable[..., Salesforce]
Https = Callable[[SalesforceEmulator], requests.Session]


@pytest.fixture(scope="module")
def emulator() -> Iterator[SalesforceEmulator]:
    running = SalesforceEmulator(jwt_public_key=PUBLIC_PEM)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _token(emulator: SalesforceEmulator, https: Https, **form: str) -> requests.Response:
    return https(emulator).post(f"{emulator.base_url}/services/oauth2/token", data=form)


def test_password_login_via_simple_salesforce_token_login(
    emulator: SalesforceEmulator, https_session: Https
) -> None:
    creds = emulator.credentials()
    session_id, instance = token_login(
        f"{emulator.base_url}/services/oauth2/token",
        {
            "grant_type": "password",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "username": creds["username"],
            "password": creds["password"] + creds["security_token"],
        },
        "login",
        creds["client_id"],
        None,
        None,
        session=https_session(emulator),
    )
    assert instance == emulator.base_url.removeprefix("https://")
    sf = Salesforce(
        instance_url=emulator.base_url, session_id=session_id, session=https_session(emulator)
    )
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1


def test_client_credentials_with_basic_auth(
    emulator: SalesforceEmulator, https_session: Https
) -> None:
    creds = emulator.credentials()
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    response = https_session(emulator).post(
        f"{emulator.base_url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["instance_url"] == emulator.base_url
    assert {"access_token", "id", "issued_at", "signature"} <= set(body)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "password": "wrong"}, "invalid_grant"),
        ({"grant_type": "client_credentials", "client_secret": "nope"}, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "other"}, "invalid_client_id"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
def test_oauth_failures(
    emulator: SalesforceEmulator, https_session: Https, form: dict[str, str], error: str
) -> None:
    creds = emulator.credentials()
    base = {k: creds[k] for k in ("client_id", "client_secret", "username")}
    response = _token(emulator, https_session, **{**base, **form})
    assert response.status_code == 400
    assert response.json()["error"] == error


def _assertion(emulator: SalesforceEmulator, key: rsa.RSAPrivateKey) -> str:
    creds = emulator.credentials()
    claims = {
        "iss": creds["client_id"],
        "sub": creds["username"],
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 300,
    }
    return jwt.encode(claims, key, algorithm="RS256")


def test_jwt_bearer_verifies_the_signature(
    emulator: SalesforceEmulator, https_session: Https
) -> None:
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    good = _token(emulator, https_session, grant_type=grant, assertion=_assertion(emulator, KEY))
    assert good.status_code == 200 and good.json()["access_token"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = _token(emulator, https_session, grant_type=grant, assertion=_assertion(emulator, other))
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_expired_session_answers_invalid_session_id(
    emulator: SalesforceEmulator, connect: Connect
) -> None:
    old = connect(emulator)
    old.query("SELECT Id FROM User")
    emulator.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as caught:
        old.query("SELECT Id FROM User")
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert connect(emulator).query("SELECT COUNT() FROM User")["totalSize"] == 1


def test_missing_token_is_401(emulator: SalesforceEmulator, https_session: Https) -> None:
    response = https_session(emulator).get(f"{emulator.base_url}/services/data/v59.0/sobjects")
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_versions_and_limits(
    emulator: SalesforceEmulator, connect: Connect, https_session: Https
) -> None:
    versions = https_session(emulator).get(f"{emulator.base_url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    sf = connect(emulator)
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == emulator.usage.daily_limit
    used = sf.api_usage["api-usage"].used
    assert used == emulator.usage.used
    assert limits["DailyApiRequests"]["Remaining"] == emulator.usage.daily_limit - used


def test_quota_exhausted_is_request_limit_exceeded(
    emulator: SalesforceEmulator, connect: Connect
) -> None:
    sf = connect(emulator)
    emulator.usage.set(daily_limit=emulator.usage.used + 2)
    try:
        sf.query("SELECT Id FROM User")
        sf.query("SELECT Id FROM User")
        assert sf.api_usage["api-usage"].used == sf.api_usage["api-usage"].total
        with pytest.raises(SalesforceRefusedRequest) as caught:
            sf.query("SELECT Id FROM User")
        assert caught.value.status == 403
        assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    finally:
        emulator.usage.set(daily_limit=100_000)
    sf.query("SELECT Id FROM User")


def _faults(emulator: SalesforceEmulator, https: Https, values: dict[str, Any]) -> None:
    response = https(emulator).put(f"{emulator.base_url}/__admin/faults", data=json.dumps(values))
    assert response.status_code == 200


def test_injected_503_carries_retry_after(
    emulator: SalesforceEmulator, connect: Connect, https_session: Https
) -> None:
    sf = connect(emulator)
    _faults(emulator, https_session, {"error_rate": 1.0, "error_statuses": [503], "retry_after": 7})
    try:
        with pytest.raises(SalesforceGeneralError) as caught:
            sf.query("SELECT Id FROM User")
    finally:
        _faults(emulator, https_session, {"error_rate": 0.0})
    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    response = https_session(emulator).get(f"{emulator.base_url}/__admin/requests")
    assert response.json()["total"] >= 1
    _faults(emulator, https_session, {"error_rate": 1.0, "error_statuses": [503], "retry_after": 7})
    try:
        raw = https_session(emulator).get(
            f"{emulator.base_url}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {emulator.credentials()['session_id']}"},
        )
    finally:
        _faults(emulator, https_session, {"error_rate": 0.0})
    assert raw.status_code == 503 and raw.headers["Retry-After"] == "7"


def test_quota_fault_flag_uses_the_salesforce_envelope(
    emulator: SalesforceEmulator, connect: Connect, https_session: Https
) -> None:
    sf = connect(emulator)
    _faults(emulator, https_session, {"quota_exhausted": True})
    try:
        with pytest.raises(SalesforceRefusedRequest) as caught:
            sf.query("SELECT Id FROM User")
    finally:
        _faults(emulator, https_session, {"quota_exhausted": False})
    assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_session_ttl_expiry(connect: Connect) -> None:
    now = [dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)]
    with SalesforceEmulator(clock=lambda: now[0]) as emulator:
        sf = connect(emulator)
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1
        now[0] += dt.timedelta(hours=3)
        with pytest.raises(SalesforceExpiredSession):
            sf.query("SELECT COUNT() FROM User")


def test_http_admin_hooks(emulator: SalesforceEmulator, https_session: Https) -> None:
    """`pssync sandbox up` runs emulators out of process; the hooks are reachable over HTTP."""
    http = https_session(emulator)
    old = emulator.credentials()["session_id"]
    fresh = http.post(f"{emulator.base_url}/_emulator/sessions/expire").json()["session_id"]
    assert fresh != old and emulator.credentials()["session_id"] == fresh
    assert not emulator.sessions.valid(old)
    limits = http.put(f"{emulator.base_url}/_emulator/limits", json={"daily_limit": 50, "used": 3})
    assert limits.json() == {"daily_limit": 50, "used": 3}
    emulator.usage.set(daily_limit=100_000)
