"""OAuth 2.0 client-credentials access tokens: JWTs (HS256 or RS256) through PyJWT.

The accepted algorithm is fixed by the configured key, never by the token's header alone, which
rules out "alg: none" and HS256-with-the-public-key confusion. Issuer, audience, expiry and
subject are always required. Tokens pssync issues name the API key they were exchanged for
(`KEY_CLAIM`), so revoking the key ends them at the next request (`api.security.identify`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

LEEWAY_SECONDS = 30
KEY_CLAIM = "pssync_key_id"
REQUIRED = ["exp", "iss", "aud", "sub"]


class TokenError(ValueError):
    """The token is malformed, badly signed, expired or not meant for this API."""


@dataclass(frozen=True)
class TokenVerifier:
    """Checks tokens signed with `secret` (HS256) and/or by `public_key_pem`'s owner (RS256)."""

    issuer: str
    audience: str
    secret: bytes | None = None
    public_key_pem: str | None = None

    def issue(self, subject: str, role: str, ttl_seconds: int, key_id: str | None = None) -> str:
        """An HS256 token for `subject` (only when a shared secret is configured); `key_id` is
        the API key it was exchanged for, checked to be live on every use."""
        if self.secret is None:
            raise TokenError("no signing secret configured")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "role": role,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        if key_id is not None:
            claims[KEY_CLAIM] = key_id
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is valid for this API, else TokenError."""
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise TokenError(f"token is not a compact JWS: {exc}") from None
        key: bytes | str
        if alg == "HS256" and self.secret is not None:
            key = self.secret
        elif alg == "RS256" and self.public_key_pem is not None:
            key = self.public_key_pem
        else:
            raise TokenError(f"token algorithm {alg!r} is not accepted")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None
        if not isinstance(claims.get("sub"), str):
            raise TokenError("token has no subject")
        return claims
