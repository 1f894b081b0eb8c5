"""Dashboard sessions: a signed cookie (itsdangerous) naming a session row kept server-side.

The cookie holds a random session ID, who logged in (key ID, name, role) and a CSRF token,
signed and time-stamped by itsdangerous so it cannot be forged, edited or used past its TTL. It
is not encrypted: it holds nothing secret, and the API key itself never goes into it. The
session also has a row in `web_session` (by the SHA-256 of its ID), and a cookie is honoured
only while its row is live: logout ends the row, so a copy of the cookie stops working at once
for pages and actions alike. The key's row is checked on every request as well, so revoking a
key ends its sessions too (`web.auth.current_user`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Engine, delete, insert, select, update

from pssync.api.context import AppContext
from pssync.api.keys import Role
from pssync.api.tables import web_session
from pssync.store.history import utcnow

COOKIE = "pssync_session"
_SALT = "pssync.web.session"


@dataclass(frozen=True)
class Session:
    session_id: str
    key_id: str
    name: str
    role: Role
    csrf: str
    expires: int


def _row_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    """Start, read and end dashboard sessions in one golden-store database."""

    def __init__(self, engine: Engine, key: bytes, ttl_seconds: int) -> None:
        self.engine, self.ttl = engine, ttl_seconds
        self.serializer = URLSafeTimedSerializer(key, salt=_SALT)

    def start(self, key_id: str, name: str, role: Role) -> str:
        """A new session (its row written) and the signed cookie value naming it."""
        session_id, now = secrets.token_urlsafe(32), utcnow()
        with self.engine.begin() as conn:
            conn.execute(delete(web_session).where(web_session.c.expires_at < now))
            conn.execute(
                insert(web_session).values(
                    id=_row_id(session_id),
                    key_id=key_id,
                    created_at=now,
                    expires_at=now + dt.timedelta(seconds=self.ttl),
                )
            )
        data = {
            "s": session_id,
            "k": key_id,
            "n": name,
            "r": role.label,
            "c": secrets.token_urlsafe(24),
            "e": int(time.time()) + self.ttl,
        }
        return self.serializer.dumps(data)

    def read(self, value: str | None) -> Session | None:
        """The live session a cookie names; None if absent, forged, expired or ended."""
        if not value or len(value) > 4096:
            return None
        try:
            data = self.serializer.loads(value, max_age=self.ttl)
            session = Session(
                session_id=str(data["s"]),
                key_id=str(data["k"]),
                name=str(data["n"]),
                role=Role.parse(str(data["r"])),
                csrf=str(data["c"]),
                expires=int(data["e"]),
            )
        except (BadData, ValueError, KeyError, TypeError):
            return None
        c = web_session.c
        stmt = select(c.key_id).where(
            c.id == _row_id(session.session_id), c.ended_at.is_(None), c.expires_at > utcnow()
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return session if row is not None and row.key_id == session.key_id else None

    def end(self, value: str | None) -> bool:
        """End the session a cookie names (logout); whether there was a live one."""
        session = self.read(value)
        if session is None:
            return False
        c = web_session.c
        with self.engine.begin() as conn:
            conn.execute(
                update(web_session)
                .where(c.id == _row_id(session.session_id), c.ended_at.is_(None))
                .values(ended_at=utcnow())
            )
        return True


def sessions_of(ctx: AppContext) -> Sessions:
    """The sessions of the app whose context is `ctx`."""
    return Sessions(ctx.store.engine, ctx.session_key, ctx.api.session_ttl_seconds)
