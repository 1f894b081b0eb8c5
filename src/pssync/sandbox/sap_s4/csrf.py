"""SAP's CSRF protection for modifying requests, bound to a session cookie.

SAP Gateway hands out a token to a GET/HEAD carrying ``x-csrf-token: Fetch`` together with a
session cookie, and refuses a POST/PUT/PATCH/MERGE/DELETE whose token does not match the
session's with ``403`` and ``x-csrf-token: Required``. Connectors must therefore keep cookies
and refetch the token when told; the emulator holds them to exactly that.
"""

from __future__ import annotations

import base64
import secrets
import threading

SESSION_COOKIE = "SAP_SESSIONID_PSE_100"


class CsrfGuard:
    """Tokens per session id; thread-safe because tests call from other threads."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def issue(self, session_id: str | None) -> tuple[str, str]:
        """(session id, token) for a fetch; an existing session keeps its token."""
        with self._lock:
            if session_id and session_id in self._tokens:
                return session_id, self._tokens[session_id]
            new_session = secrets.token_hex(16).upper()
            token = base64.b64encode(secrets.token_bytes(16)).decode()
            self._tokens[new_session] = token
            return new_session, token

    def valid(self, session_id: str | None, token: str | None) -> bool:
        if not session_id or not token:
            return False
        with self._lock:
            expected = self._tokens.get(session_id)
        return expected is not None and secrets.compare_digest(expected, token)

    def expire_all(self) -> None:
        """Forget every token (as a server restart would); clients must refetch."""
        with self._lock:
            self._tokens.clear()
