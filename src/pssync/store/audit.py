"""Append-only, hash-chained audit log, keyed with a secret kept outside the database.

Each row's hash covers its content and the previous row's hash, and the newest (seq, hash) is
kept in `audit_head`, so editing, deleting or truncating rows all break a check that
`verify_chain` can point at. A plain SHA-256 chain only catches accidents: whoever can write to
the database can recompute it (delete the newest row, set the head to the previous hash, and
the chain is whole again). So with ``PSSYNC_AUDIT_KEY`` set (in the environment, never in the
database) every row hash is an HMAC-SHA256 under that key and the head is sealed with it too:
rewriting rows or rolling the head back then needs the key. What a key cannot show is the whole
database restored from an older copy; anchors exported out of the database
(`audit_anchors.py`) cover that. docs/operations.md says what the audit does and does not
protect against.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from pssync.store.bulk import insert_rows, on_conflict_clause
from pssync.store.tables import audit_head, audit_log

GENESIS = "0" * 64
KEY_ENV = "PSSYNC_AUDIT_KEY"
MIN_KEY_LENGTH = 32


class AuditKeyError(ValueError):
    """``PSSYNC_AUDIT_KEY`` is set but too short to be a key."""


def audit_key(environ: dict[str, str] | None = None) -> bytes | None:
    """The chain key from ``PSSYNC_AUDIT_KEY`` (None when unset: a plain SHA-256 chain)."""
    value = (os.environ if environ is None else environ).get(KEY_ENV, "")
    if not value:
        return None
    if len(value) < MIN_KEY_LENGTH:
        raise AuditKeyError(f"{KEY_ENV} must be at least {MIN_KEY_LENGTH} characters")
    return value.encode("utf-8")


class Hasher:
    """Row hashes: HMAC-SHA256 under the key, or plain SHA-256 without one."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self._base = hmac.new(key, digestmod=hashlib.sha256) if key else None

    def __call__(self, material: bytes) -> str:
        if self._base is None:
            return hashlib.sha256(material).hexdigest()
        mac = self._base.copy()  # the keyed inner state, computed once
        mac.update(material)
        return mac.hexdigest()

    def head(self, seq: int, row_hash: str) -> str:
        """What `audit_head` holds: the newest row's hash, sealed with the key when there is one
        (so the head cannot be set back to an earlier row without the key)."""
        if self.key is None:
            return row_hash
        return hmac.new(self.key, f"head\x1f{seq}\x1f{row_hash}".encode(), "sha256").hexdigest()


# What a caller supplies per row, in this order; seq and the two hashes are added by `append_rows`.
AuditItem = tuple[
    dt.datetime,  # at
    str,  # transaction_id
    str | None,  # correlation_id
    str,  # actor
    str,  # action
    str | None,  # entity_type
    str | None,  # record_id
    str,  # changes (JSON text)
    str | None,  # reason
]
_COLUMNS = (
    "seq",
    "at",
    "transaction_id",
    "correlation_id",
    "actor",
    "action",
    "entity_type",
    "record_id",
    "changes",
    "reason",
    "prev_hash",
    "row_hash",
)


def to_json(changes: dict[str, Any]) -> str:
    """The stored form of an entry's changes (sorted keys, so the hash input is stable)."""
    return json.dumps(changes, sort_keys=True, default=str, separators=(",", ":"))


@dataclass(frozen=True)
class AuditEntry:
    """One audited event before it is chained: who did what to which record, field by field."""

    at: dt.datetime
    transaction_id: str
    actor: str
    action: str
    entity_type: str | None = None
    record_id: str | None = None
    changes: str = "{}"  # JSON text; see `to_json`
    reason: str | None = None
    correlation_id: str | None = None


def _row_hash(prev_hash: str, seq: int, row: dict[str, Any], hasher: Hasher) -> str:
    at: dt.datetime = row["at"]
    material = "\x1f".join(
        [
            prev_hash,
            str(seq),
            at.astimezone(dt.UTC).isoformat(),
            row["transaction_id"],
            row["correlation_id"] or "",
            row["actor"],
            row["action"],
            row["entity_type"] or "",
            row["record_id"] or "",
            row["changes"],
            row["reason"] or "",
        ]
    )
    return hasher(material.encode("utf-8"))


def _lock_head(conn: Connection) -> tuple[int, str]:
    """Read the chain head under a write lock, so two writers cannot chain onto the same row.

    PostgreSQL locks the row (``FOR UPDATE``). SQLite has no row locks, and its driver only opens
    a transaction at the first write, so a no-op UPDATE of the head takes the database's write
    lock before the head is read. The first append of a store creates the head; two
    PostgreSQL writers may both find none, so the insert leaves an existing row alone (waiting
    for the other's commit) and the head is read again, locked.
    """
    stmt = select(audit_head.c.seq, audit_head.c.row_hash).where(audit_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    else:
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq))
    row = conn.execute(stmt).first()
    if row is None:
        genesis = [(1, 0, GENESIS)]
        ignore = on_conflict_clause(conn.dialect, audit_head)
        insert_rows(conn, audit_head, ("id", "seq", "row_hash"), genesis, on_conflict=ignore)
        row = conn.execute(stmt).one()
    seq = int(row.seq)
    if seq == 0:
        return 0, GENESIS
    # The head may be sealed (keyed), so the chain continues from the newest row's own hash.
    last = conn.execute(select(audit_log.c.row_hash).where(audit_log.c.seq == seq)).scalar()
    return seq, GENESIS if last is None else str(last)


def append(conn: Connection, entries: Sequence[AuditEntry]) -> None:
    """Chain `entries` onto the log inside the caller's transaction."""
    append_rows(
        conn,
        [
            (
                e.at,
                e.transaction_id,
                e.correlation_id,
                e.actor,
                e.action,
                e.entity_type,
                e.record_id,
                e.changes,
                e.reason,
            )
            for e in entries
        ],
    )


def append_rows(conn: Connection, items: Sequence[AuditItem]) -> None:
    """`append` for plain tuples: the bulk write path chains thousands of rows per transaction.

    The hash input is exactly `_row_hash`'s (which `verify_chain` recomputes); it is inlined here
    because a batch shares one timestamp, whose UTC text is then formatted once.
    """
    if not items:
        return
    seq, prev = _lock_head(conn)
    hasher = Hasher(audit_key())
    stamps: dict[dt.datetime, str] = {}
    rows = []
    for at, tx, correlation_id, actor, action, entity_type, record_id, changes, reason in items:
        seq += 1
        stamp = stamps.get(at)
        if stamp is None:
            stamp = stamps[at] = at.astimezone(dt.UTC).isoformat()
        material = "\x1f".join(
            (
                prev,
                str(seq),
                stamp,
                tx,
                correlation_id or "",
                actor,
                action,
                entity_type or "",
                record_id or "",
                changes,
                reason or "",
            )
        )
        row_hash = hasher(material.encode("utf-8"))
        rows.append(
            (
                seq,
                at,
                tx,
                correlation_id,
                actor,
                action,
                entity_type,
                record_id,
                changes,
                reason,
                prev,
                row_hash,
            )
        )
        prev = row_hash
    insert_rows(conn, audit_log, _COLUMNS, rows)
    head = hasher.head(seq, prev)
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, row_hash=head))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    problem: str | None = None
    bad_seq: int | None = None
    keyed: bool = False  # checked against PSSYNC_AUDIT_KEY (else only accidents are caught)


def verify_chain(engine: Engine, key: bytes | str | None = "env") -> VerifyResult:
    """Recompute the chain from the first row; report the first row that does not fit.

    `key` defaults to ``PSSYNC_AUDIT_KEY``. With a key, rows must carry its HMAC — except rows
    written before the key was set, which may keep plain hashes as long as no keyed row came
    before them — and the head must be sealed with it. Without a key, a keyed row cannot be
    checked and is reported as such.
    """
    secret = audit_key() if key == "env" else key
    assert not isinstance(secret, str)
    keyed, plain = Hasher(secret), Hasher(None)
    expected_prev, expected_seq, checked, keyed_seen = GENESIS, 1, 0, False
    with engine.connect() as conn:
        head = conn.execute(select(audit_head.c.seq, audit_head.c.row_hash)).first()
        result = conn.execution_options(yield_per=5000).execute(
            select(audit_log).order_by(audit_log.c.seq)
        )
        for row in result.mappings():
            seq = int(row["seq"])
            if seq != expected_seq:
                return _bad(checked, f"audit rows {expected_seq}..{seq - 1} are missing", secret)
            if row["prev_hash"] != expected_prev:
                return _bad(checked, f"audit row {seq}: previous hash mismatch", secret, seq)
            stored = row["row_hash"]
            if secret is not None and stored == _row_hash(expected_prev, seq, dict(row), keyed):
                keyed_seen = True
            elif stored != _row_hash(expected_prev, seq, dict(row), plain):
                problem = f"audit row {seq}: content does not match its hash"
                if secret is None:
                    problem += f" (or it is keyed: set {KEY_ENV} to check it)"
                return _bad(checked, problem, secret, seq)
            elif keyed_seen:
                return _bad(checked, f"audit row {seq}: unkeyed after keyed rows", secret, seq)
            expected_prev, expected_seq, checked = stored, seq + 1, checked + 1
    head_seq, head_hash = (int(head.seq), str(head.row_hash)) if head else (0, GENESIS)
    sealed = keyed.head(checked, expected_prev)
    if head_seq != checked or head_hash not in (sealed, expected_prev):
        return _bad(
            checked,
            f"audit log ends at row {checked} but its head says row {head_seq}"
            f"{'' if head_seq != checked else ' with another hash'}: rows were removed",
            secret,
            checked + 1,
        )
    if secret is not None and checked and head_hash != sealed:
        return _bad(
            checked,
            f"the audit head is not sealed with {KEY_ENV}: it was reset, or nothing was"
            " written since the key was set",
            secret,
            checked + 1,
        )
    return VerifyResult(True, checked, keyed=secret is not None)


def _bad(checked: int, problem: str, key: bytes | None, seq: int | None = None) -> VerifyResult:
    return VerifyResult(
        False, checked, problem, checked + 1 if seq is None else seq, key is not None
    )
