"""Names for the IDs people meet on the surfaces: service lines, regions, legal entities, roles,
accounts, projects and deals, read from their records in the golden store.

One `Names` lives for one request (`NamesDep`): each entity type is read once, on first use,
with the name pulled out of the payload by the database (a JSON path), so a page of a hundred
cells costs one query per kind it names. An ID without a record keeps its ID as its label, so
a name is never invented and nothing disappears.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import JSON, ColumnElement, Connection, cast, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from pssync.api.context import AppContext
from pssync.api.security import get_ctx
from pssync.store import GoldenStore
from pssync.store.tables import record_version

# The kinds a surface names, by the dimension or field stem that holds their ID.
KINDS = {
    "service_line": "ServiceLine",
    "region": "Region",
    "legal_entity": "LegalEntity",
    "role": "Role",
    "account": "Account",
    "project": "Project",
    "opportunity": "Opportunity",
}
_KIND_OF = {entity_type: kind for kind, entity_type in KINDS.items()}
rv = record_version.c


def _name_column(conn: Connection) -> ColumnElement[Any]:
    """payload->>'name' on PostgreSQL, json_extract on SQLite (payloads are JSON text)."""
    column: ColumnElement[Any]
    if conn.dialect.name == "postgresql":
        column = cast(rv.payload, JSONB)["name"].astext
    else:
        column = type_coerce(rv.payload, JSON)["name"].as_string()
    return column


class Names:
    """ID -> name per kind, each kind loaded once (current records, deleted ones included:
    an old forecast may still name a retired service line)."""

    def __init__(self, store: GoldenStore) -> None:
        self.store = store
        self._cache: dict[str, dict[str, str]] = {}

    def of_kind(self, kind: str) -> dict[str, str]:
        entity_type = KINDS[kind]
        if entity_type not in self._cache:
            with self.store.engine.connect() as conn:
                stmt = select(rv.record_id, _name_column(conn)).where(
                    rv.entity_type == entity_type,
                    rv.recorded_to.is_(None),
                    rv.valid_to.is_(None),
                )
                self._cache[entity_type] = {
                    str(rid): str(name) for rid, name in conn.execute(stmt) if name
                }
        return self._cache[entity_type]

    def name(self, kind: str, record_id: str | None) -> str | None:
        """The record's name, or None when there is no ID or no record with a name."""
        if not record_id:
            return None
        return self.of_kind(kind).get(record_id)

    def label(self, kind: str, record_id: str | None, missing: str = "-") -> str:
        """What a person reads: the name, else the ID itself, else `missing`."""
        if not record_id:
            return missing
        return self.of_kind(kind).get(record_id) or record_id

    def of_record(self, entity_type: str | None, record_id: str | None) -> str | None:
        """The name of a record given by its entity type (None for a type without names)."""
        kind = _KIND_OF.get(entity_type or "")
        return self.name(kind, record_id) if kind else None

    def field(self, field_name: str, value: Any) -> str | None:
        """The name behind a `<kind>_id` field's value, e.g. ``service_line_id``."""
        kind = field_name.removesuffix("_id")
        if field_name == kind or kind not in KINDS or not isinstance(value, str):
            return None
        return self.name(kind, value)

    def add_names(
        self, row: dict[str, Any], kinds: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """`row` with `<kind>_name` beside each `<kind>` (or `<kind>_id`) field it holds."""
        out = dict(row)
        for kind in kinds or tuple(KINDS):
            for key in (kind, f"{kind}_id"):
                if key in row and isinstance(row[key], str | None):
                    out[f"{kind}_name"] = self.name(kind, row[key])
                    break
        return out


def get_names(ctx: Annotated[AppContext, Depends(get_ctx)]) -> Names:
    return Names(ctx.store)


NamesDep = Annotated[Names, Depends(get_names)]
