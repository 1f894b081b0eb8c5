"""Signing NetSuite requests: TBA (OAuth 1.0a, HMAC-SHA256) or an OAuth 2.0 bearer token.

TBA is authlib's OAuth 1.0 signer (`ClientAuth`: the core, not its httpx integration, which
authlib now marks deprecated) behind a small `httpx.Auth`, with two adjustments NetSuite needs:
authlib ships only HMAC-SHA1, so HMAC-SHA256 (the only method NetSuite accepts) is registered
here, and authlib leaves a JSON body out of the signature base string unless
``force_include_body=True``, so every PUT and SuiteQL POST would be signed over the wrong text.

OAuth 2.0 client credentials: a JWT signed with the certificate's private key (PS256 or RS256,
``kid`` = certificate ID, ``scope`` ``rest_webservices``, ``aud`` = token URL) is exchanged for a
bearer token that lives an hour; it is renewed a minute before it expires and once after a 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx
from authlib.common.urls import quote
from authlib.oauth1 import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pssync.connectors.errors import AuthError
from pssync.connectors.netsuite.settings import NetSuiteSettings

SYSTEM = "netsuite"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300
RENEW_MARGIN = 60.0


def _sign_hmac_sha256(client: Any, request: Any) -> str:
    """RFC 5849 section 3.4.2 with SHA-256 in place of SHA-1."""
    base_string = generate_signature_base_string(request)
    secrets = (client.client_secret or "", client.token_secret or "")
    key = "&".join(quote(secret, safe="~") for secret in secrets)
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


ClientAuth.register_signature_method("HMAC-SHA256", _sign_hmac_sha256)


def _secret(value: Any) -> str:
    return "" if value is None else str(value.get_secret_value())


class TbaAuth(httpx.Auth):
    """Signs each request (a fresh nonce and timestamp every time, so retries are new requests);
    the body is read first because it is part of the signature."""

    requires_request_body = True

    def __init__(self, signer: ClientAuth) -> None:
        self.signer = signer

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        _, headers, _ = self.signer.prepare(
            request.method, str(request.url), dict(request.headers), request.content
        )
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def tba_auth(settings: NetSuiteSettings) -> httpx.Auth:
    signer = ClientAuth(
        settings.consumer_key,
        client_secret=_secret(settings.consumer_secret),
        token=settings.token_id,
        token_secret=_secret(settings.token_secret),
        signature_method="HMAC-SHA256",
        realm=settings.account_id,
        force_include_body=True,
    )
    return TbaAuth(signer)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def client_assertion(settings: NetSuiteSettings, now: float | None = None) -> str:
    """The compact JWS NetSuite's token endpoint exchanges for an access token."""
    try:
        key = serialization.load_pem_private_key(
            _secret(settings.private_key).encode(), password=None
        )
    except (ValueError, TypeError) as exc:
        raise AuthError(f"private_key is not a PEM private key: {exc}", system=SYSTEM) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthError("private_key must be an RSA key", system=SYSTEM)
    issued = int(now if now is not None else time.time())
    alg = settings.oauth2_algorithm
    header = {"alg": alg, "typ": "JWT", "kid": settings.certificate_id}
    claims = {
        "iss": settings.client_id,
        "scope": ["rest_webservices"],
        "aud": settings.token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
    }
    signing_input = (
        f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    )
    pad: padding.AsymmetricPadding = (
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
        if alg == "PS256"
        else padding.PKCS1v15()
    )
    signature = key.sign(signing_input, pad, hashes.SHA256())
    return f"{signing_input.decode()}.{_b64(signature)}"


class BearerAuth(httpx.Auth):
    """Adds the bearer token, fetching it on first use and renewing it when it is about to
    expire or a request comes back 401 (once per request). Shared by the writer threads."""

    def __init__(self, fetch: Callable[[], tuple[str, float]]) -> None:
        self.fetch = fetch
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self.fetches = 0

    def token(self, *, force: bool = False, stale: str | None = None) -> str:
        with self._lock:
            expired = time.monotonic() >= self._expires - RENEW_MARGIN
            if self._token is None or expired or (force and self._token == stale):
                self._token, lifetime = self.fetch()
                self._expires = time.monotonic() + lifetime
                self.fetches += 1
            return self._token

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(force=True, stale=token)}"
            yield request
