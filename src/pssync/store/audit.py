"""Append-only, hash-chained audit log.

Each row's hash covers its content and the previous row's hash, and the newest (seq, hash) is
kept in `audit_head`, so editing, deleting or truncating rows all break a check that
`verify_chain` can point at.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from pssync.store.bulk import insert_rows, on_conflict_clause
from pssync.store.tables import audit_head, audit_log

GENESIS = "0" * 64

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


def _row_hash(prev_hash: str, seq: int, row: dict[str, Any]) -> str:
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
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


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
    return int(row.seq), str(row.row_hash)


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
    stamps: dict[dt.datetime, str] = {}
    sha256 = hashlib.sha256
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
        row_hash = sha256(material.encode("utf-8")).hexdigest()
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
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, row_hash=prev))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    problem: str | None = None
    bad_seq: int | None = None


def verify_chain(engine: Engine) -> VerifyResult:
    """Recompute the chain from the first row; report the first row that does not fit."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    with engine.connect() as conn:
        head = conn.execute(select(audit_head.c.seq, audit_head.c.row_hash)).first()
        result = conn.execution_options(yield_per=5000).execute(
            select(audit_log).order_by(audit_log.c.seq)
        )
        for row in result.mappings():
            seq = int(row["seq"])
            if seq != expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    f"audit rows {expected_seq}..{seq - 1} are missing",
                    expected_seq,
                )
            if row["prev_hash"] != expected_prev:
                return VerifyResult(False, checked, f"audit row {seq}: previous hash mismatch", seq)
            actual = _row_hash(expected_prev, seq, dict(row))
            if actual != row["row_hash"]:
                return VerifyResult(
                    False, checked, f"audit row {seq}: content does not match its hash", seq
                )
            expected_prev, expected_seq, checked = actual, seq + 1, checked + 1
    head_seq, head_hash = (int(head.seq), str(head.row_hash)) if head else (0, GENESIS)
    if head_seq != checked or head_hash != expected_prev:
        return VerifyResult(
            False,
            checked,
            f"audit log ends at row {checked} but its head says row {head_seq}: rows were removed",
            checked + 1,
        )
    return VerifyResult(True, checked)
