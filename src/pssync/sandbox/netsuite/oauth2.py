"""NetSuite OAuth 2.0 client credentials (machine-to-machine) and bearer-token checks.

In NetSuite's M2M flow the integration uploads a certificate; the client then POSTs to
`/services/rest/auth/oauth2/v1/token` with `grant_type=client_credentials`,
`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a
`client_assertion` JWT signed with the certificate's private key (PS256 or RS256; header `kid` =
certificate ID; claims `iss` = client ID, `scope` incl. `rest_webservices`, `aud` = token URL,
`iat`, `exp` at most an hour later). The answer is a bearer `access_token` valid for 3600 s.

The emulator owns the key pair (handed out in `credentials()`), verifies the JWT with
`cryptography` itself, and remembers the tokens it issued.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_LIFETIME = 3600


class OAuth2Error(Exception):
    """An RFC 6749 token-endpoint error (`error`, `error_description`)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class OAuth2Issuer:
    """Issues and checks access tokens for one M2M integration (client ID + certificate)."""

    def __init__(
        self, client_id: str, certificate_id: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.client_id = client_id
        self.certificate_id = certificate_id
        self._clock = clock
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def private_key_pem(self) -> str:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def issue(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise OAuth2Error("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuth2Error("invalid_request", "client_assertion_type must be jwt-bearer")
        self._verify_assertion(form.get("client_assertion", ""))
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._clock() + TOKEN_LIFETIME
        return {"access_token": token, "expires_in": str(TOKEN_LIFETIME), "token_type": "bearer"}

    def check(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and expires > self._clock()

    def _verify_assertion(self, assertion: str) -> None:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuth2Error("invalid_request", "client_assertion is not a JWT")
        try:
            header = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
            signature = _b64decode(parts[2])
        except ValueError:
            raise OAuth2Error("invalid_request", "client_assertion is not a JWT") from None
        if header.get("kid") != self.certificate_id:
            raise OAuth2Error("invalid_grant", "unknown certificate (kid)")
        self._verify_signature(header.get("alg"), f"{parts[0]}.{parts[1]}".encode(), signature)
        self._check_claims(claims)

    def _verify_signature(self, alg: object, signed: bytes, signature: bytes) -> None:
        public = self._key.public_key()
        if alg == "PS256":
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH
            )
        elif alg == "RS256":
            pad = padding.PKCS1v15()
        else:
            raise OAuth2Error("invalid_grant", f"unsupported algorithm {alg}")
        try:
            public.verify(signature, signed, pad, hashes.SHA256())
        except InvalidSignature:
            raise OAuth2Error("invalid_grant", "invalid client_assertion signature") from None

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") != self.client_id:
            raise OAuth2Error("invalid_client", "unknown client (iss)", status=401)
        if not str(claims.get("aud", "")).endswith(TOKEN_PATH):
            raise OAuth2Error("invalid_grant", "aud must be the token endpoint URL")
        scope = claims.get("scope", [])
        scopes = scope.split() if isinstance(scope, str) else list(scope)
        if "rest_webservices" not in scopes:
            raise OAuth2Error("invalid_scope", "scope must include rest_webservices")
        issued, expires = claims.get("iat"), claims.get("exp")
        if not isinstance(issued, int | float) or not isinstance(expires, int | float):
            raise OAuth2Error("invalid_grant", "iat and exp are required")
        if expires <= now or issued > now + 300 or expires - issued > TOKEN_LIFETIME:
            raise OAuth2Error("invalid_grant", "assertion expired or not yet valid")
