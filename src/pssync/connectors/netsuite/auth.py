"""Signing NetSuite requests: TBA (OAuth 1.0a, HMAC-SHA256) or an OAuth 2.0 bearer token.

TBA is authlib's OAuth 1.0 signer (`ClientAuth`: the core, not its httpx integration, which
authlib now marks deprecated) behind a small `httpx.Auth`, with two adjustments NetSuite needs:
authlib ships only HMAC-SHA1, so HMAC-SHA256 (the only method NetSuite accepts) is registered
here, and authlib leaves a JSON body out of the signature base string unless
``force_include_body=True``, so every PUT and SuiteQL POST would be signed over the wrong text.

OAuth 2.0 client credentials: a JWT signed (PyJWT) with the certificate's private key (PS256 or
RS256, ``kid`` = certificate ID, ``scope`` ``rest_webservices``, ``aud`` = token URL) is exchanged
for a bearer token that lives an hour. authlib's OAuth2 client sends the grant (the assertion
added as its token-endpoint client authentication) and holds the token; it is renewed a minute
before it expires and once after a 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx
import jwt
from authlib.common.urls import add_params_to_qs, quote
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth1 import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
    claims = {
        "iss": settings.client_id,
        "scope": ["rest_webservices"],
        "aud": settings.token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
    }
    headers = {"kid": settings.certificate_id}
    return jwt.encode(claims, key, algorithm=settings.oauth2_algorithm, headers=headers)


class AssertionAuth:
    """authlib token-endpoint client authentication: a fresh signed assertion per grant."""

    def __init__(self, settings: NetSuiteSettings) -> None:
        self.settings = settings

    def __call__(
        self, auth: Any, method: str, uri: str, headers: dict[str, str], body: str
    ) -> tuple[str, dict[str, str], str]:
        form = [
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", client_assertion(self.settings)),
        ]
        return uri, headers, add_params_to_qs(body or "", form)


def oauth2_client(
    settings: NetSuiteSettings, on_response: Callable[[httpx.Response], httpx.Response]
) -> Any:
    """authlib's OAuth2 client for the client-credentials grant; `on_response` sees every token
    answer first (to raise the connector's error classes for a refusal)."""
    client = OAuth2Client(
        client_id=settings.client_id,
        token_endpoint=settings.token_url,
        token_endpoint_auth_method=AssertionAuth(settings),
        grant_type="client_credentials",
        leeway=int(RENEW_MARGIN),
        timeout=settings.timeout,
    )
    client.register_compliance_hook("access_token_response", on_response)
    return client


class BearerAuth(httpx.Auth):
    """Adds the bearer token held by authlib's OAuth2 client, fetching it on first use and when
    it is about to expire, and once more when a request comes back 401. Shared by the writer
    threads."""

    def __init__(self, oauth: Any, fetch: Callable[[], None]) -> None:
        self.oauth = oauth
        self.fetch = fetch
        self._lock = threading.Lock()
        self.fetches = 0

    def token(self, *, force: bool = False, stale: str | None = None) -> str:
        with self._lock:
            token = self.oauth.token
            current = token.get("access_token") if token else None
            if (
                current is None
                or token.is_expired(leeway=RENEW_MARGIN)
                or (force and current == stale)
            ):
                self.fetch()
                self.fetches += 1
                current = self.oauth.token["access_token"]
            return str(current)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(force=True, stale=token)}"
            yield request
