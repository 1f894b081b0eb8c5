"""Exceptions and the commands that move them through their lifecycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

_ID = Field(min_length=1, max_length=64)


class ExceptionPublic(BaseModel):
    id: str
    category: str
    severity: str
    state: str
    owner: str | None
    system: str | None
    object: str | None
    source_id: str | None
    entity_type: str | None
    record_id: str | None
    region_id: str | None
    service_line_id: str | None
    message: str
    details: dict[str, Any]
    payload: str | None
    attempts: int
    correlation_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution: str | None
    record_name: str | None = Field(default=None, description="The record's name, if it has one.")
    region_name: str | None = None
    service_line_name: str | None = None


class AssignBody(BaseModel):
    owner: str = Field(min_length=1, max_length=128)


class NoteBody(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class ReplayBody(BaseModel):
    payload: str | None = Field(
        default=None, max_length=200_000, description="Corrected payload to replay instead."
    )


class BulkBase(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=500)


class BulkAssign(BulkBase):
    owner: str = Field(min_length=1, max_length=128)


class BulkResolve(BulkBase):
    note: str = Field(min_length=1, max_length=2000)


class BulkReplay(BulkBase):
    pass


class BulkItem(BaseModel):
    id: str
    ok: bool
    state: str | None = None
    error: str | None = None


class BulkResult(BaseModel):
    ok: int
    failed: int
    items: list[BulkItem]
