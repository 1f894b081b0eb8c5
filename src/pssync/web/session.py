"""Signed session cookies for the dashboard, with `hmac` (itsdangerous is not installed).

The cookie holds who logged in (key ID, name, role), when it expires and a CSRF token; it is
signed with HMAC-SHA256 so it cannot be forged or edited, and verified in constant time. It
is not encrypted: it holds nothing secret. The key itself never goes into the cookie, and the
key's row is checked on every request so revoking a key ends its sessions at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from pssync.api.keys import Role

COOKIE = "pssync_session"


@dataclass(frozen=True)
class Session:
    key_id: str
    name: str
    role: Role
    csrf: str
    expires: int


def _sign(key: bytes, body: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def encode(key: bytes, key_id: str, name: str, role: Role, ttl_seconds: int) -> str:
    """A new signed session value with a fresh CSRF token."""
    data = {
        "k": key_id,
        "n": name,
        "r": role.label,
        "c": secrets.token_urlsafe(24),
        "e": int(time.time()) + ttl_seconds,
    }
    body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{body.decode()}.{_sign(key, body)}"


def decode(key: bytes, value: str | None) -> Session | None:
    """The session in a cookie value, or None if absent, forged, malformed or expired."""
    if not value or value.count(".") != 1:
        return None
    body, signature = value.split(".")
    if not hmac.compare_digest(_sign(key, body.encode()), signature):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        session = Session(
            key_id=str(data["k"]),
            name=str(data["n"]),
            role=Role.parse(str(data["r"])),
            csrf=str(data["c"]),
            expires=int(data["e"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None
