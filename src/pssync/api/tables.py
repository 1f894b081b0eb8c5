"""The API's own table: API keys, stored as salted SHA-256 digests, never in clear.

Keys are 256-bit random secrets, so a fast salted digest is enough (a slow password hash buys
nothing against brute force of 2**256 and would cost every request tens of milliseconds). The
table lives on the golden store's metadata so Alembic migrates it with the rest
(`store/migrations/versions/0004_api.py`).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from pssync.store.tables import UtcDateTime, metadata

api_key = Table(
    "api_key",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index("ix_api_key_name", "name"),
)

# Dashboard sessions (`web/session.py`): the cookie names a row here, by the SHA-256 of its ID,
# and is honoured only while the row is live, so logging out ends the session server-side.
web_session = Table(
    "web_session",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("key_id", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
)
