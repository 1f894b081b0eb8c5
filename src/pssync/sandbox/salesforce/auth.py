"""Sessions and the OAuth 2.0 token endpoint (password, client credentials, JWT bearer).

Connectors authenticate exactly as against a real org: either a session ID handed over directly
(what ``credentials()`` gives) or a token from ``/services/oauth2/token``. Expiring every session
from a test reproduces the ``INVALID_SESSION_ID`` path that makes simple-salesforce log in again.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_pem_x509_certificate

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


class OAuthError(Exception):
    """An OAuth failure: 400 (or 401) with ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass
class AuthConfig:
    org_id: str
    user_id: str
    username: str = "integration@pssync.example"
    password: str = "sandbox-password"
    security_token: str = "SandboxSecurityToken"
    client_id: str = "3MVG9pssyncSandboxConsumerKey"
    client_secret: str = "pssync-sandbox-consumer-secret"
    session_ttl: dt.timedelta = dt.timedelta(hours=2)
    # PEM public key or certificate of the connected app; None accepts any well-formed JWT.
    jwt_public_key: bytes | None = None


class Sessions:
    def __init__(self, config: AuthConfig, clock: Callable[[], dt.datetime]) -> None:
        self.config = config
        self.clock = clock
        self._sessions: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()
        self.default = self.issue()

    def issue(self) -> str:
        token = f"{self.config.org_id[:15]}!{secrets.token_urlsafe(72)}"
        with self._lock:
            self._sessions[token] = self.clock() + self.config.session_ttl
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            expires = self._sessions.get(token)
        return expires is not None and expires > self.clock()

    def expire_all(self) -> None:
        """Invalidate every session, then issue a fresh default one for `credentials()`."""
        with self._lock:
            self._sessions.clear()
        self.default = self.issue()

    @staticmethod
    def bearer(header: str | None) -> str | None:
        """The token of ``Authorization: Bearer <t>`` (or the older ``OAuth <t>``)."""
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() in ("bearer", "oauth") and token else None

    # -- OAuth token endpoint -------------------------------------------------------------

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None, instance_url: str
    ) -> dict[str, Any]:
        grant = form.get("grant_type", "")
        if grant == "password":
            self._client(form, basic)
            password = self.config.password + self.config.security_token
            if form.get("username") != self.config.username or form.get("password") not in (
                password,
                self.config.password,
            ):
                raise OAuthError("invalid_grant", "authentication failure")
        elif grant == "client_credentials":
            self._client(form, basic)
        elif grant == JWT_BEARER:
            self._verify_jwt(form.get("assertion", ""), instance_url)
        else:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        return self._response(instance_url)

    def _client(self, form: dict[str, str], basic: tuple[str, str] | None) -> None:
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if client_id != self.config.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(secret, self.config.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _response(self, instance_url: str) -> dict[str, Any]:
        issued_at = str(int(self.clock().timestamp() * 1000))
        identity = f"{instance_url}/id/{self.config.org_id}/{self.config.user_id}"
        digest = hmac.new(
            self.config.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        return {
            "access_token": self.issue(),
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
        }

    def _verify_jwt(self, assertion: str, instance_url: str) -> None:
        parts = assertion.split(".")
        try:
            if len(parts) != 3:
                raise ValueError("not three parts")
            header = json.loads(_b64url(parts[0]))
            claims = json.loads(_b64url(parts[1]))
            signature = _b64url(parts[2])
        except (ValueError, binascii.Error):
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if header.get("alg") != "RS256":
            raise OAuthError("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.config.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if claims.get("sub") != self.config.username:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        if claims.get("aud") not in (*AUDIENCES, instance_url):
            raise OAuthError("invalid_grant", "audience is invalid")
        if (
            not isinstance(claims.get("exp"), int | float)
            or claims["exp"] < self.clock().timestamp()
        ):
            raise OAuthError("invalid_grant", "expired authorization code")
        if self.config.jwt_public_key is not None:
            key = _public_key(self.config.jwt_public_key)
            signed = f"{parts[0]}.{parts[1]}".encode()
            try:
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                raise OAuthError("invalid_grant", "invalid assertion") from None


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_key(pem: bytes) -> rsa.RSAPublicKey:
    key: object
    if b"CERTIFICATE" in pem:
        key = load_pem_x509_certificate(pem).public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise OAuthError("invalid_grant", "the configured JWT key is not an RSA key")
    return key
