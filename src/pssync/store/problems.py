"""Exceptions as data: what a problem to raise carries, the lifecycle states, and the one
definition of an exception's fields (`ExceptionRecord`).

The store layer holds exception records as data so that every layer that finds a problem (the
engine rejecting a record, a delivery dead-lettered, governance flagging an account) can
describe it without depending on the governance layer, which owns the lifecycle, routing and
notification (`governance.exceptions.ExceptionStore`).

`ExceptionRecord`'s fields are the only place the ~23 fields of an exception are written down:
the table (`store.tables.exception_record`), the API's schema (`api.schemas.exceptions`) and
the CLI's list columns (`cli.exceptions_cmds`) are derived from them. Each field's metadata
says how it is stored (`length`: a string column of that size, None: unbounded text), whether
the API serves it (`public`) and the width of its column in the CLI's list (`list_width`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

# Correlation IDs are workflow IDs (``page:<system>:<object>:<32 hex>``, ``repoint:<type>:<id>``):
# longer than 64, and PostgreSQL enforces the length (migration 0008).
CORRELATION_ID_LENGTH = 512


class State(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    IGNORED = "ignored"


ACTIVE = (State.OPEN, State.ASSIGNED)


@dataclass
class NewException:
    """A problem to raise. `payload` is what replay needs to try again once it is fixed."""

    category: str
    message: str
    system: str | None = None
    object: str | None = None
    source_id: str | None = None
    entity_type: str | None = None
    record_id: str | None = None
    region_id: str | None = None
    service_line_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    payload: str | None = None
    correlation_id: str | None = None

    def fingerprint(self) -> str:
        parts = [
            self.category,
            self.system,
            self.object,
            self.source_id,
            self.entity_type,
            self.record_id,
            str(self.details.get("field", "")),
        ]
        return hashlib.sha256("|".join(p or "" for p in parts).encode()).hexdigest()


def _spec(
    length: int | None = None, *, public: bool = True, list_width: int | None = None
) -> Mapping[str, Any]:
    """How a field of `ExceptionRecord` is stored, served and listed (see the module doc)."""
    return {"length": length, "public": public, "list_width": list_width}


@dataclass
class ExceptionRecord:
    """One exception as stored; the definition the table, API schema and CLI derive from.

    `details` is a JSON object (stored as text); datetimes are timezone-aware (UTC).
    """

    id: str = field(metadata=_spec(32, list_width=12))
    category: str = field(metadata=_spec(64, list_width=14))
    severity: str = field(metadata=_spec(16))
    state: str = field(metadata=_spec(16, list_width=7))
    owner: str | None = field(metadata=_spec(128, list_width=10))
    system: str | None = field(metadata=_spec(64))
    object: str | None = field(metadata=_spec(128))
    source_id: str | None = field(metadata=_spec(255))
    entity_type: str | None = field(metadata=_spec(64))
    record_id: str | None = field(metadata=_spec(200))
    region_id: str | None = field(metadata=_spec(200))
    service_line_id: str | None = field(metadata=_spec(200))
    message: str = field(metadata=_spec())
    details: dict[str, Any] = field(metadata=_spec())
    payload: str | None = field(metadata=_spec())
    attempts: int = field(metadata=_spec())
    correlation_id: str | None = field(metadata=_spec(CORRELATION_ID_LENGTH))
    created_at: dt.datetime = field(metadata=_spec())
    updated_at: dt.datetime = field(metadata=_spec())
    due_at: dt.datetime | None = field(metadata=_spec())
    resolved_at: dt.datetime | None = field(metadata=_spec())
    resolution: str | None = field(metadata=_spec())
    fingerprint: str = field(metadata=_spec(64, public=False))

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.created_at

    def overdue(self, now: dt.datetime) -> bool:
        return self.state in ACTIVE and self.due_at is not None and now > self.due_at

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, dt.datetime) else v)
            for k, v in self.__dict__.items()
        }


def exception_fields(*, public: bool | None = None) -> list[tuple[str, Any, Mapping[str, Any]]]:
    """(name, type, spec) of each field of `ExceptionRecord`, in order; `public`: only the
    fields the API serves (True) or only those it does not (False)."""
    hints = typing.get_type_hints(ExceptionRecord)
    return [
        (f.name, hints[f.name], f.metadata)
        for f in fields(ExceptionRecord)
        if public is None or f.metadata["public"] is public
    ]
