"""OAuth 2.0 client-credentials access tokens: compact JWS, HS256 or RS256.

Small enough to write against `hmac` and `cryptography` directly (authlib's `jose` module is
deprecated in the installed version and would warn on import). The accepted algorithm is fixed
by the configured key, never read from the token's header alone, which rules out "alg: none"
and HS256-with-the-public-key confusion. Issuer, audience and expiry are always checked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

LEEWAY_SECONDS = 30


class TokenError(ValueError):
    """The token is malformed, badly signed, expired or not meant for this API."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise TokenError("token is not base64url") from exc


@dataclass(frozen=True)
class TokenVerifier:
    """Checks tokens signed with `secret` (HS256) and/or by `public_key_pem`'s owner (RS256)."""

    issuer: str
    audience: str
    secret: bytes | None = None
    public_key_pem: str | None = None

    def issue(self, subject: str, role: str, ttl_seconds: int) -> str:
        """An HS256 token for `subject` (only when a shared secret is configured)."""
        if self.secret is None:
            raise TokenError("no signing secret configured")
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "role": role,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signed = f"{header}.{body}".encode("ascii")
        return f"{header}.{body}.{_b64(hmac.new(self.secret, signed, hashlib.sha256).digest())}"

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is valid for this API, else TokenError."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("token is not a compact JWS")
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise TokenError("token header or claims are not JSON") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise TokenError("token header or claims are not objects")
        self._check_signature(str(header.get("alg")), parts)
        self._check_claims(claims)
        return claims

    def _check_signature(self, alg: str, parts: list[str]) -> None:
        signed, signature = f"{parts[0]}.{parts[1]}".encode("ascii"), _unb64(parts[2])
        if alg == "HS256" and self.secret is not None:
            expected = hmac.new(self.secret, signed, hashlib.sha256).digest()
            if not hmac.compare_digest(expected, signature):
                raise TokenError("bad token signature")
            return
        if alg == "RS256" and self.public_key_pem is not None:
            key = serialization.load_pem_public_key(self.public_key_pem.encode())
            if not isinstance(key, rsa.RSAPublicKey):
                raise TokenError("configured public key is not RSA")
            try:
                key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature as exc:
                raise TokenError("bad token signature") from exc
            return
        raise TokenError(f"token algorithm {alg!r} is not accepted")

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp + LEEWAY_SECONDS < now:
            raise TokenError("token expired or without exp")
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf - LEEWAY_SECONDS > now:
            raise TokenError("token not yet valid")
        if claims.get("iss") != self.issuer:
            raise TokenError("token issuer not accepted")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience not in audiences:
            raise TokenError("token audience not accepted")
        if not isinstance(claims.get("sub"), str):
            raise TokenError("token has no subject")
