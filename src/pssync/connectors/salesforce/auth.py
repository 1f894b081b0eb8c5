"""Logging in: the OAuth 2.0 flows a Salesforce integration user can use, and re-login.

simple-salesforce's own login helpers always post to ``https://{domain}.salesforce.com``, which
rules out My Domain-only orgs, private connectivity and the local emulator; so the token endpoint
is called here, at ``{base_url}/services/oauth2/token``, over the connector's own session (same
CA, same timeout), and simple-salesforce is then built from the instance URL and access token.

The JWT bearer assertion is signed with PyJWT (RS256), the way Salesforce documents it:
``iss`` the connected app's consumer key, ``sub`` the username, ``aud`` the login URL, ``exp`` a
few minutes ahead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pssync.connectors.errors import AuthError, ConnectorError
from pssync.connectors.salesforce.settings import SalesforceSettings
from pssync.connectors.salesforce.transport import SYSTEM, classify, transport_error

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180


@dataclass(frozen=True)
class Login:
    instance_url: str
    access_token: str


def _secret(value: Any) -> str:
    return "" if value is None else str(value.get_secret_value())


def jwt_assertion(settings: SalesforceSettings, now: float | None = None) -> str:
    """The signed JWT the jwt-bearer grant exchanges for an access token."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": settings.client_id,
        "sub": settings.username,
        "aud": settings.jwt_audience,
        "exp": issued + JWT_LIFETIME_SECONDS,
    }
    return sign_rs256(claims, _secret(settings.private_key).encode())


def sign_rs256(claims: dict[str, Any], private_key_pem: bytes) -> str:
    """A compact JWS (RFC 7515) over `claims`, RS256 as Salesforce requires."""
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AuthError(f"private_key is not a PEM private key: {exc}", system=SYSTEM) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthError("private_key must be an RSA key (RS256)", system=SYSTEM)
    return jwt.encode(claims, key, algorithm="RS256")


def token_request(settings: SalesforceSettings) -> dict[str, str]:
    """The form the token endpoint expects for the configured flow."""
    flow = settings.flow
    if flow == "client_credentials":
        return {
            "grant_type": "client_credentials",
            "client_id": settings.client_id or "",
            "client_secret": _secret(settings.client_secret),
        }
    if flow == "password":
        form = {
            "grant_type": "password",
            "client_id": settings.client_id or "",
            "username": settings.username or "",
            "password": _secret(settings.password) + _secret(settings.security_token),
        }
        if settings.client_secret is not None:
            form["client_secret"] = _secret(settings.client_secret)
        return form
    if flow == "jwt":
        return {"grant_type": JWT_GRANT, "assertion": jwt_assertion(settings)}
    raise ValueError(f"flow {flow!r} does not use the token endpoint")


class Authenticator:
    """Holds the current login; `login()` obtains a fresh one where the flow allows it."""

    def __init__(self, settings: SalesforceSettings, session: requests.Session) -> None:
        self.settings = settings
        self.session = session
        self.logins = 0
        self._current: Login | None = None

    @property
    def can_renew(self) -> bool:
        """A given session cannot be renewed: only its owner can log in again."""
        return self.settings.flow != "session"

    def current(self) -> Login:
        if self._current is None:
            self._current = self.login()
        return self._current

    def login(self) -> Login:
        settings = self.settings
        if settings.flow == "session":
            self._current = Login(settings.base_url.rstrip("/"), _secret(settings.session_id))
            return self._current
        try:
            response = self.session.post(settings.token_url, data=token_request(settings))
        except requests.RequestException as exc:
            raise transport_error(exc) from exc
        body = _json(response)
        if response.status_code != 200 or "access_token" not in body:
            raise _login_error(response.status_code, body, response.headers.get("Retry-After"))
        self.logins += 1
        self._current = Login(str(body["instance_url"]).rstrip("/"), str(body["access_token"]))
        return self._current


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"error": "invalid_response", "error_description": response.text[:300]}
    return body if isinstance(body, dict) else {"error": "invalid_response"}


def _login_error(status: int, body: dict[str, Any], retry_after: str | None) -> ConnectorError:
    """Bad credentials (400 invalid_grant / invalid_client, 401) stop the connector; a token
    endpoint that is down or throttling is retried like any other call."""
    if status >= 500 or status == 429:
        return classify(status, body, retry_after=retry_after)
    return AuthError(
        f"login refused: {body.get('error_description') or body.get('error')}",
        system=SYSTEM,
        vendor_code=body.get("error"),
        status=status,
    )
