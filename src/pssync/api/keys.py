"""API keys: created once, shown once, stored as a salted digest, checked in constant time.

A key reads ``pss_<key_id>_<secret>``: the public `key_id` finds the row without scanning, the
secret is compared as ``sha256(salt + secret)`` with `hmac.compare_digest`, so neither the
database nor timing reveals it. Revoking keeps the row (and its name) for the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, update

from pssync.api.tables import api_key
from pssync.store import audit
from pssync.store.history import utcnow

PREFIX = "pss"


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {value!r}; use viewer, operator or admin") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    role: Role
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def _info(row: Row[Any]) -> KeyInfo:
    return KeyInfo(
        key_id=str(row.key_id),
        name=str(row.name),
        role=Role.parse(str(row.role)),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class ApiKeyStore:
    """Create, list, revoke and verify keys; every change is written to the audit log."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, role: Role, actor: str = "cli") -> tuple[KeyInfo, str]:
        """A new key for `name`; the clear key is returned here and never again."""
        key_id, secret, salt = (
            secrets.token_hex(8),
            secrets.token_urlsafe(32),
            secrets.token_hex(16),
        )
        now = utcnow()
        with self.engine.begin() as conn:
            if conn.execute(select(api_key.c.key_id).where(api_key.c.name == name)).first():
                raise ValueError(f"a key named {name!r} already exists")
            conn.execute(
                insert(api_key).values(
                    key_id=key_id,
                    name=name,
                    role=role.label,
                    salt=salt,
                    digest=_digest(salt, secret),
                    created_at=now,
                )
            )
            self._audit(conn, actor, "api.key.create", key_id, {"name": name, "role": role.label})
        return KeyInfo(key_id, name, role, now, None), f"{PREFIX}_{key_id}_{secret}"

    def list(self) -> list[KeyInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_key).order_by(api_key.c.created_at, api_key.c.name))
            return [_info(r) for r in rows]

    def get(self, key_id: str) -> KeyInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_key).where(api_key.c.key_id == key_id)).first()
        return None if row is None else _info(row)

    def revoke(self, name: str, actor: str = "cli") -> KeyInfo:
        with self.engine.begin() as conn:
            row = conn.execute(select(api_key).where(api_key.c.name == name)).first()
            if row is None:
                raise KeyError(f"no key named {name!r}")
            if row.revoked_at is None:
                conn.execute(
                    update(api_key).where(api_key.c.name == name).values(revoked_at=utcnow())
                )
                self._audit(conn, actor, "api.key.revoke", str(row.key_id), {"name": name})
        found = self.get(str(row.key_id))
        assert found is not None
        return found

    def verify(self, presented: str) -> KeyInfo | None:
        """The live key matching `presented`, or None (unknown, malformed, wrong or revoked)."""
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != PREFIX or not key_id or not secret or len(presented) > 200:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(api_key).where(api_key.c.key_id == key_id)).first()
        if row is None:
            _digest("0" * 32, secret)  # same work either way: no timing hint that the ID exists
            return None
        if not hmac.compare_digest(_digest(str(row.salt), secret), str(row.digest)):
            return None
        return None if row.revoked_at is not None else _info(row)

    @staticmethod
    def _audit(
        conn: Connection, actor: str, action: str, key_id: str, changes: dict[str, str]
    ) -> None:
        audit.append(
            conn,
            [
                audit.AuditEntry(
                    at=utcnow(),
                    transaction_id=uuid.uuid4().hex,
                    actor=actor,
                    action=action,
                    entity_type="ApiKey",
                    record_id=key_id,
                    changes=audit.to_json(changes),
                )
            ],
        )
