"""Records, history, provenance, xrefs and traces as the API returns them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class EntityCount(BaseModel):
    entity_type: str
    records: int


class RecordPublic(BaseModel):
    """One version of a canonical record: the payload and both time axes."""

    entity_type: str
    id: str
    payload: dict[str, Any]
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    recorded_from: dt.datetime
    recorded_to: dt.datetime | None
    system: str
    transaction_id: str
    source_record: str | None
    deleted: bool


class RecordPage(BaseModel):
    entity_type: str
    offset: int
    limit: int
    items: list[RecordPublic]


class Provenance(BaseModel):
    system: str
    source_record: str | None
    transaction_id: str
    recorded_at: dt.datetime
    valid_from: dt.datetime


class FieldProvenance(BaseModel):
    name: str
    value: Any = None
    provenance: Provenance | None


class XrefPublic(BaseModel):
    system_object: str = Field(description="system:Object")
    external_id: str


class TraceLink(BaseModel):
    rel: str
    entity_type: str
    id: str


class TraceNode(BaseModel):
    entity_type: str
    id: str
    label: str
    system: str
    transaction_id: str
    valid_from: dt.datetime
    recorded_at: dt.datetime
    xrefs: dict[str, str]
    fields: list[FieldProvenance]
    links: list[TraceLink]


class RecordKey(BaseModel):
    entity_type: str
    id: str


class TracePublic(BaseModel):
    root: RecordKey
    focus: RecordKey
    nodes: list[TraceNode]
    truncated: bool
