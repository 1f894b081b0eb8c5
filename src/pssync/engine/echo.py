"""Echo and no-op suppression through a delivery ledger.

pssync remembers, per target record, exactly which vendor fields it last wrote. Two loops are
cut with that memory:

* no-op: a command whose rendered fields equal what was last written makes no API call;
* echo: when change capture later reads that target record back and every field pssync wrote
  still holds the written value, the change is pssync's own write coming back, not news, and
  is not propagated again. A field someone else changed breaks the match, so real edits in
  the target still flow.

The ledger also links the target's own ID to the canonical record (xref), so the record read
back resolves to the canonical ID it was written from instead of minting a new one.

A create is noted *before* it is sent (`intend`: the external ID pssync puts into the record,
the fields it sends, no target ID yet, a hash that matches nothing): a poll of the target that
reads the new record while its delivery is still in flight finds it by that external ID and
takes it for the echo it is, instead of a new record (a duplicate golden record).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from pssync.engine.ids import content_digest
from pssync.engine.sql import insert_ignore, upsert
from pssync.engine.tables import engine_delivery
from pssync.store.history import utcnow
from pssync.store.tables import xref

_CHUNK = 400
# The content hash of a write announced but not confirmed: never equal to a written hash, so
# it never makes a later send a no-op.
PENDING = "pending"


@dataclass(frozen=True)
class Written:
    """What pssync last wrote to one target record."""

    system: str
    object: str
    external_id: str
    target_id: str | None
    entity_type: str
    record_id: str
    content_hash: str
    payload: dict[str, Any]


def _norm(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).strip()


def same_fields(written: dict[str, Any], current: dict[str, Any]) -> bool:
    """Every field pssync wrote still holds its value (compared as trimmed text)."""
    return all(_norm(v) == _norm(current.get(k)) for k, v in written.items())


class Ledger:
    """The delivery ledger of one golden-store database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _select(self, system: str, obj: str, column: Any, values: Iterable[str]) -> list[Written]:
        wanted, found = list(dict.fromkeys(values)), []
        d = engine_delivery.c
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                stmt = select(engine_delivery).where(
                    d.system == system,
                    d.object == obj,
                    column.in_(wanted[start : start + _CHUNK]),
                )
                found += [
                    Written(
                        r.system,
                        r.object,
                        r.external_id,
                        r.target_id,
                        r.entity_type,
                        r.record_id,
                        r.content_hash,
                        json.loads(r.payload),
                    )
                    for r in conn.execute(stmt)
                ]
        return found

    def by_external_id(self, system: str, obj: str, ids: Iterable[str]) -> dict[str, Written]:
        rows = self._select(system, obj, engine_delivery.c.external_id, ids)
        return {w.external_id: w for w in rows}

    def by_target_id(self, system: str, obj: str, ids: Iterable[str]) -> dict[str, Written]:
        rows = self._select(system, obj, engine_delivery.c.target_id, ids)
        return {w.target_id: w for w in rows if w.target_id is not None}

    def intend(self, intents: Sequence[Written]) -> None:
        """Note creates about to be sent (external IDs pssync has not written before)."""
        if not intents:
            return
        now = utcnow()
        rows = [
            {
                "system": w.system,
                "object": w.object,
                "external_id": w.external_id,
                "target_id": None,
                "entity_type": w.entity_type,
                "record_id": w.record_id,
                "content_hash": PENDING,
                "payload": json.dumps(w.payload, sort_keys=True, default=str),
                "written_at": now,
            }
            for w in intents
        ]
        with self.engine.begin() as conn:
            insert_ignore(conn, engine_delivery, rows)

    def link(self, written: Sequence[Written]) -> None:
        """Link target IDs to the canonical records pssync wrote them from (xref)."""
        now = utcnow()
        links = [
            {
                "entity_type": w.entity_type,
                "record_id": w.record_id,
                "system": w.system,
                "object": w.object,
                "external_id": w.target_id,
                "recorded_at": now,
            }
            for w in written
            if w.target_id
        ]
        if links:
            with self.engine.begin() as conn:
                insert_ignore(conn, xref, links)

    def record(self, written: Sequence[Written]) -> None:
        """Remember successful writes and link each target ID to its canonical record."""
        if not written:
            return
        now = utcnow()
        rows = [
            {
                "system": w.system,
                "object": w.object,
                "external_id": w.external_id,
                "target_id": w.target_id,
                "entity_type": w.entity_type,
                "record_id": w.record_id,
                "content_hash": w.content_hash,
                "payload": json.dumps(w.payload, sort_keys=True, default=str),
                "written_at": now,
            }
            for w in written
        ]
        links = [
            {
                "entity_type": w.entity_type,
                "record_id": w.record_id,
                "system": w.system,
                "object": w.object,
                "external_id": w.target_id,
                "recorded_at": now,
            }
            for w in written
            if w.target_id
        ]
        with self.engine.begin() as conn:
            upsert(
                conn,
                engine_delivery,
                rows,
                ["target_id", "entity_type", "record_id", "content_hash", "payload", "written_at"],
            )
            insert_ignore(conn, xref, links)


def written_hash(vendor: dict[str, Any]) -> str:
    return content_digest({k: _norm(v) for k, v in vendor.items()})


def is_noop(previous: Written | None, vendor: dict[str, Any]) -> bool:
    """The target already holds exactly these fields from pssync's last write."""
    return previous is not None and previous.content_hash == written_hash(vendor)


def is_echo(previous: Written | None, incoming: dict[str, Any]) -> bool:
    """The incoming record is pssync's own last write coming back."""
    return previous is not None and same_fields(previous.payload, incoming)
