"""The golden store's tables (SQLAlchemy Core), shared by the repositories and the migrations.

`record_version` is bitemporal: `valid_from`/`valid_to` say when a fact was true in the business,
`recorded_from`/`recorded_to` say when pssync believed it. A row is never updated except to close
its `recorded_to`, so any past belief can be read back. Field provenance travels with each version
as a JSON map, which keeps a record's write to one row instead of one row per field.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from pssync.store.problems import CORRELATION_ID_LENGTH, exception_fields


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes on every backend: stored as UTC, read back with tzinfo=UTC.

    SQLite keeps no offset, so without this a round trip would hand back naive datetimes.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the golden store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = MetaData()

# BigInteger autoincrement primary keys need a variant on SQLite, which only autoincrements INTEGER.
_Id = BigInteger().with_variant(Integer(), "sqlite")

record_version = Table(
    "record_version",
    metadata,
    Column("version_id", _Id, primary_key=True, autoincrement=True),
    Column("entity_type", String(64), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("valid_from", UtcDateTime(), nullable=False),
    Column("valid_to", UtcDateTime(), nullable=True),
    Column("recorded_from", UtcDateTime(), nullable=False),
    Column("recorded_to", UtcDateTime(), nullable=True),
    Column("content_hash", String(64), nullable=False),
    # Payload and provenance are JSON text written once by pydantic/json: the text is also what
    # the content hash covers, so no second serialisation is needed on the hot import path.
    Column("payload", Text, nullable=False),
    Column("provenance", Text, nullable=False),
    Column("transaction_id", String(64), nullable=False),
    Column("system", String(64), nullable=False),
    Column("source_record", String(255), nullable=True),
    Column("deleted", Integer, nullable=False, default=0),
    Index("ix_record_version_current", "entity_type", "record_id", "recorded_to"),
    Index("ix_record_version_type_time", "entity_type", "recorded_from"),
    # One current belief per record and valid time, and one open-ended one per record: a second
    # writer that read the same state is refused here and re-applies (migration 0010).
    Index(
        "uq_record_version_current",
        "entity_type",
        "record_id",
        "valid_from",
        unique=True,
        sqlite_where=text("recorded_to IS NULL"),
        postgresql_where=text("recorded_to IS NULL"),
    ),
    Index(
        "uq_record_version_latest",
        "entity_type",
        "record_id",
        unique=True,
        sqlite_where=text("recorded_to IS NULL AND valid_to IS NULL"),
        postgresql_where=text("recorded_to IS NULL AND valid_to IS NULL"),
    ),
)

xref = Table(
    "xref",
    metadata,
    Column("xref_id", _Id, primary_key=True, autoincrement=True),
    Column("entity_type", String(64), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("system", String(64), nullable=False),
    Column("object", String(128), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    # The digest of the compared golden fields (store/compare_digest.py); NULL: unknown.
    Column("compare_digest", String(32), nullable=True),
    UniqueConstraint("system", "object", "external_id", name="uq_xref_external"),
    UniqueConstraint("entity_type", "record_id", "system", "object", name="uq_xref_canonical"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _Id, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("transaction_id", String(64), nullable=False),
    Column("correlation_id", String(CORRELATION_ID_LENGTH), nullable=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("entity_type", String(64), nullable=True),
    Column("record_id", String(200), nullable=True),
    Column("changes", Text, nullable=False),
    Column("reason", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

# The chain head is kept apart so that deleting the newest audit rows is detected too.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("row_hash", String(64), nullable=False),
)


# One model for dead letters and business exceptions: what went wrong, for which record, who owns
# fixing it, and the payload to replay once it is fixed. `fingerprint` makes raising the same
# problem for the same record twice update the open exception instead of adding a second one.
def exception_columns() -> list[Column[Any]]:
    """The exception table's columns, from `problems.ExceptionRecord`'s fields: a string of the
    field's length (text when it has none), an integer, a UTC datetime, JSON as text; NULL
    allowed where the field is optional. `id` is the key."""
    columns: list[Column[Any]] = []
    for name, hint, spec in exception_fields():
        optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
        base = next(t for t in typing.get_args(hint) if t is not type(None)) if optional else hint
        kind: TypeEngine[Any] | type[TypeEngine[Any]]
        if base is dt.datetime:
            kind = UtcDateTime()
        elif base is int:
            kind = Integer
        else:
            kind = String(spec["length"]) if spec["length"] else Text
        extra: dict[str, Any] = {"primary_key": True} if name == "id" else {}
        if base is int:
            extra["default"] = 0
        columns.append(Column(name, kind, nullable=optional, **extra))
    return columns


exception_record = Table(
    "exception_record",
    metadata,
    *exception_columns(),
    Index("ix_exception_state_category", "state", "category"),
    Index("ix_exception_fingerprint", "fingerprint"),
)


# A merged duplicate redirects to its survivor: the duplicate's xrefs keep resolving (to the
# survivor), so both sources' IDs stay known after a merge.
record_merge = Table(
    "record_merge",
    metadata,
    Column("entity_type", String(64), primary_key=True),
    Column("from_id", String(200), primary_key=True),
    Column("to_id", String(200), nullable=False),
    Column("merged_at", UtcDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
)


# A reference a record holds to a vendor ID the xref map did not know when it was applied (the
# account of a deal was rejected, or not read yet): once a record with that xref is applied, the
# governance hooks re-point the holder to the canonical ID (`references.repoint_dangling`).
dangling_reference = Table(
    "dangling_reference",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("system", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("holder_type", String(64), nullable=False),
    Column("holder_id", String(200), nullable=False),
    Column("object", String(128), nullable=False),
    Column("field", String(64), nullable=False),
    Column("noted_at", UtcDateTime(), nullable=False),
    UniqueConstraint("holder_type", "holder_id", "field", name="uq_dangling_holder"),
    Index("ix_dangling_target", "system", "external_id", "entity_type"),
)
