"""Record trace: an opportunity's path to project, contract lines, invoices and revenue.

Links come from the canonical payloads' foreign keys (Project.opportunity_id,
ContractLine.project_id/opportunity_id, Invoice.contract_line_id/project_id, ...), queried in
the database with a JSON path so a trace stays a handful of indexed reads even on a large
store. Every field of every record on the path carries the system, transaction and time that
set it (field provenance), which is the question finance asks of a number: "says who, when?".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, and_, cast, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from pssync.store import GoldenStore, RecordVersion
from pssync.store.tables import record_version

rv = record_version.c
# (child type, foreign key on the child, parent type): the downstream path of a deal.
LINKS: tuple[tuple[str, str, str], ...] = (
    ("Project", "opportunity_id", "Opportunity"),
    ("ContractLine", "opportunity_id", "Opportunity"),
    ("ContractLine", "project_id", "Project"),
    ("BillingMilestone", "contract_line_id", "ContractLine"),
    ("Invoice", "contract_line_id", "ContractLine"),
    ("Invoice", "project_id", "Project"),
    ("Payment", "invoice_id", "Invoice"),
    ("RevenueEvent", "contract_line_id", "ContractLine"),
    ("RevenueEvent", "project_id", "Project"),
)
TRACEABLE = frozenset(child for child, _, _ in LINKS) | {"Opportunity"}
_MAX_NODES = 500
_HIDDEN = frozenset({"xrefs", "schema_version"})


@dataclass(frozen=True)
class AsOf:
    valid_at: dt.datetime | None = None
    known_at: dt.datetime | None = None

    def where(self) -> ColumnElement[bool]:
        known = (
            rv.recorded_to.is_(None)
            if self.known_at is None
            else and_(
                rv.recorded_from <= self.known_at,
                or_(rv.recorded_to.is_(None), rv.recorded_to > self.known_at),
            )
        )
        valid = (
            rv.valid_to.is_(None)
            if self.valid_at is None
            else and_(
                rv.valid_from <= self.valid_at,
                or_(rv.valid_to.is_(None), rv.valid_to > self.valid_at),
            )
        )
        return and_(known, valid, rv.deleted == 0)


def _json_text(conn: Connection, name: str) -> ColumnElement[Any]:
    """payload->>name on PostgreSQL, json_extract on SQLite (payloads are JSON text)."""
    column: ColumnElement[Any]
    if conn.dialect.name == "postgresql":
        column = cast(rv.payload, JSONB)[name].astext
    else:
        column = type_coerce(rv.payload, JSON)[name].as_string()
    return column


def field_provenance(store: GoldenStore, version: RecordVersion) -> dict[str, dict[str, Any]]:
    """Per field: system, source record, transaction and times, in one query per record."""
    txs = set(version.provenance.values())
    if not txs:
        return {}
    stmt = (
        select(rv.transaction_id, rv.system, rv.source_record, rv.recorded_from, rv.valid_from)
        .where(
            rv.entity_type == version.entity_type,
            rv.record_id == version.record_id,
            rv.transaction_id.in_(txs),
        )
        .order_by(rv.recorded_from)
    )
    by_tx: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(stmt):
            by_tx.setdefault(
                row.transaction_id,
                {
                    "system": row.system,
                    "source_record": row.source_record,
                    "transaction_id": row.transaction_id,
                    "recorded_at": row.recorded_from,
                    "valid_from": row.valid_from,
                },
            )
    return {f: by_tx[tx] for f, tx in version.provenance.items() if tx in by_tx}


def node(store: GoldenStore, version: RecordVersion) -> dict[str, Any]:
    """One record on a trace: its fields with provenance, xrefs, and its upstream links."""
    prov = field_provenance(store, version)
    payload = version.payload
    fields = [
        {"name": k, "value": v, "provenance": prov.get(k)}
        for k, v in payload.items()
        if k not in _HIDDEN and v not in (None, [], {})
    ]
    parents = [
        {"rel": fk, "entity_type": parent, "id": payload[fk]}
        for child, fk, parent in LINKS
        if child == version.entity_type and payload.get(fk)
    ]
    label = payload.get("name") or payload.get("number") or version.record_id
    return {
        "entity_type": version.entity_type,
        "id": version.record_id,
        "label": str(label),
        "system": version.system,
        "transaction_id": version.transaction_id,
        "valid_from": version.valid_from,
        "recorded_at": version.recorded_from,
        "xrefs": payload.get("xrefs") or {},
        "fields": fields,
        "links": parents,
    }


def _children(
    store: GoldenStore, parent_type: str, ids: Iterable[str], as_of: AsOf
) -> list[RecordVersion]:
    wanted = list(ids)
    found: list[RecordVersion] = []
    with store.engine.connect() as conn:
        for child, fk, parent in LINKS:
            if parent != parent_type or not wanted:
                continue
            stmt = (
                select(rv.entity_type, rv.record_id)
                .where(rv.entity_type == child, _json_text(conn, fk).in_(wanted), as_of.where())
                .order_by(rv.record_id)
            )
            keys = [(r.entity_type, r.record_id) for r in conn.execute(stmt)]
            for entity_type, record_id in keys:
                version = store.get(
                    entity_type, record_id, valid_at=as_of.valid_at, known_at=as_of.known_at
                )
                if version is not None:
                    found.append(version)
    return found


def root_of(store: GoldenStore, entity_type: str, record_id: str, as_of: AsOf) -> RecordVersion:
    """Climb foreign keys to the opportunity (or the highest record there is) behind a record."""
    current = store.get(entity_type, record_id, valid_at=as_of.valid_at, known_at=as_of.known_at)
    if current is None:
        raise KeyError(f"no {entity_type} {record_id}")
    for _ in range(len(LINKS)):
        parent = None
        for child, fk, parent_type in LINKS:
            ref = current.payload.get(fk) if child == current.entity_type else None
            if ref and parent is None:
                parent = store.get(
                    parent_type, ref, valid_at=as_of.valid_at, known_at=as_of.known_at
                )
        if parent is None:
            break
        current = parent
    return current


def trace(store: GoldenStore, entity_type: str, record_id: str, as_of: AsOf) -> dict[str, Any]:
    """The whole path through `entity_type:record_id`, from its root downstream, level by level."""
    root = root_of(store, entity_type, record_id, as_of)
    seen = {(root.entity_type, root.record_id)}
    nodes, frontier = [root], [root]
    while frontier and len(nodes) < _MAX_NODES:
        by_type: dict[str, list[str]] = {}
        for version in frontier:
            by_type.setdefault(version.entity_type, []).append(version.record_id)
        frontier = []
        for parent_type, ids in by_type.items():
            for child in _children(store, parent_type, ids, as_of):
                key = (child.entity_type, child.record_id)
                if key not in seen:
                    seen.add(key)
                    nodes.append(child)
                    frontier.append(child)
    return {
        "root": {"entity_type": root.entity_type, "id": root.record_id},
        "focus": {"entity_type": entity_type, "id": record_id},
        "nodes": [node(store, v) for v in nodes[:_MAX_NODES]],
        "truncated": len(nodes) >= _MAX_NODES,
    }
