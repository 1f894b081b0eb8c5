"""Token-based authentication is really verified: signatures, nonces, timestamps, realm; and
the OAuth 2.0 client-credentials flow hands out bearer tokens."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth1Auth, OAuth1Client
from authlib.oauth1.rfc5849 import client_auth
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pssync.sandbox.netsuite import NetSuiteEmulator

AuthFactory = Callable[..., OAuth1Auth]
ClientFactory = Callable[..., OAuth1Client]
pytestmark = pytest.mark.integration
CUSTOMERS = "/services/rest/record/v1/customer"


def assert_invalid_login(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2",
        "title": "Unauthorized",
        "status": 401,
        "o:errorDetails": [
            {
                "detail": response.json()["o:errorDetails"][0]["detail"],
                "o:errorCode": "INVALID_LOGIN",
            }
        ],
    }
    assert "Invalid login attempt" in response.json()["o:errorDetails"][0]["detail"]


def test_correct_signature_is_accepted_with_query_and_body(make_client: ClientFactory) -> None:
    with make_client() as client:
        assert client.get(CUSTOMERS, params={"limit": 2, "offset": 4}).status_code == 200
        body = {"companyName": "Signed & Sealed", "subsidiary": {"id": "1"}}
        assert client.post(CUSTOMERS, json=body).status_code == 204


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"token_secret": "not-the-secret"}, "bad signature"),
        ({"client_secret": "not-the-secret"}, "bad signature"),
        ({"realm": "9999999"}, "wrong realm"),
        ({"token": "someone-elses-token"}, "unknown token"),
        ({"signature_method": "HMAC-SHA1"}, "unsupported signature method"),
    ],
)
def test_wrong_credentials_are_refused(
    netsuite: NetSuiteEmulator, make_client: ClientFactory, override: dict[str, Any], reason: str
) -> None:
    before = netsuite.verifier.rejections[reason]
    with make_client(**override) as client:
        assert_invalid_login(client.get(CUSTOMERS))
    assert netsuite.verifier.rejections[reason] == before + 1


def test_tampered_request_is_refused(netsuite: NetSuiteEmulator, make_auth: AuthFactory) -> None:
    """Signed for one URL, sent to another: the base string no longer matches."""
    auth = make_auth()
    request = httpx.Request("GET", f"{netsuite.base_url}{CUSTOMERS}?limit=5")
    signed = next(auth.auth_flow(request))
    tampered = httpx.Request(
        "GET", f"{netsuite.base_url}{CUSTOMERS}?limit=6", headers=signed.headers
    )
    assert_invalid_login(httpx.Client().send(tampered))


def test_replayed_nonce_is_refused(netsuite: NetSuiteEmulator, make_auth: AuthFactory) -> None:
    auth = make_auth()
    signed = next(auth.auth_flow(httpx.Request("GET", f"{netsuite.base_url}{CUSTOMERS}")))
    before = netsuite.verifier.rejections["nonce reused"]
    with httpx.Client() as plain:
        assert plain.send(signed).status_code == 200
        assert_invalid_login(plain.send(signed))
    assert netsuite.verifier.rejections["nonce reused"] == before + 1


def test_stale_timestamp_is_refused(
    netsuite: NetSuiteEmulator, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_auth, "generate_timestamp", lambda: str(int(time.time()) - 3600))
    before = netsuite.verifier.rejections["stale timestamp"]
    with make_client() as client:
        assert_invalid_login(client.get(CUSTOMERS))
    assert netsuite.verifier.rejections["stale timestamp"] == before + 1


def test_missing_authorization_is_refused(netsuite: NetSuiteEmulator) -> None:
    response = httpx.get(f"{netsuite.base_url}{CUSTOMERS}")
    assert_invalid_login(response)
    assert response.headers["WWW-Authenticate"].startswith("OAuth realm=")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_assertion(creds: dict[str, str], key_pem: str | None = None) -> str:
    """A PS256-signed JWT, as NetSuite's M2M flow expects."""
    now = int(time.time())
    header = {"alg": "PS256", "typ": "JWT", "kid": creds["oauth2_certificate_id"]}
    claims = {
        "iss": creds["oauth2_client_id"],
        "scope": ["rest_webservices"],
        "aud": creds["oauth2_token_url"],
        "iat": now,
        "exp": now + 600,
    }
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    private_key = serialization.load_pem_private_key(
        (key_pem or creds["oauth2_private_key_pem"]).encode(), password=None
    )
    assert isinstance(private_key, rsa.RSAPrivateKey)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    signature = private_key.sign(signing_input.encode(), pss, hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def test_oauth2_client_credentials_issue_a_working_bearer_token(netsuite: NetSuiteEmulator) -> None:
    creds = netsuite.credentials()
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(creds),
    }
    token = httpx.post(creds["oauth2_token_url"], data=form)
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer" and token.json()["expires_in"] == "3600"
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert httpx.get(f"{netsuite.base_url}{CUSTOMERS}", headers=bearer).status_code == 200
    assert_invalid_login(
        httpx.get(f"{netsuite.base_url}{CUSTOMERS}", headers={"Authorization": "Bearer nope"})
    )


def test_oauth2_assertion_signed_by_another_key_is_refused(netsuite: NetSuiteEmulator) -> None:
    creds = netsuite.credentials()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(creds, other_pem),
    }
    refused = httpx.post(creds["oauth2_token_url"], data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
