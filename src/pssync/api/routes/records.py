"""Canonical records as of any business and belief time, their history, provenance and xrefs."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from pssync.api import trace as tracing
from pssync.api.deps import StoreDep, ViewerDep
from pssync.api.schemas.records import (
    EntityCount,
    FieldProvenance,
    RecordPage,
    RecordPublic,
    TracePublic,
    XrefPublic,
)
from pssync.api.schemas.types import IsoDateTime
from pssync.model import ENTITY_TYPES
from pssync.store import GoldenStore, RecordVersion

router = APIRouter(tags=["records"])

EntityPath = Annotated[str, Path(description="Canonical entity type, e.g. Opportunity.")]
IdPath = Annotated[str, Path(min_length=1, max_length=200)]
ValidAt = Annotated[
    IsoDateTime | None, Query(description="Business time (default: the latest valid version).")
]
KnownAt = Annotated[
    IsoDateTime | None, Query(description="Belief time (default: what pssync knows now).")
]


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(422, f"{name} needs a timezone offset (e.g. 2026-06-15T00:00:00Z)")
    return value


def _entity(entity_type: str) -> str:
    if entity_type not in ENTITY_TYPES:
        raise HTTPException(404, f"unknown entity type {entity_type!r}")
    return entity_type


def public(version: RecordVersion) -> RecordPublic:
    return RecordPublic(
        entity_type=version.entity_type,
        id=version.record_id,
        payload=version.payload,
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        recorded_from=version.recorded_from,
        recorded_to=version.recorded_to,
        system=version.system,
        transaction_id=version.transaction_id,
        source_record=version.source_record,
        deleted=version.deleted,
    )


def _one(
    store: GoldenStore,
    entity_type: str,
    record_id: str,
    valid_at: dt.datetime | None,
    known_at: dt.datetime | None,
) -> RecordVersion:
    version = store.get(
        _entity(entity_type),
        record_id,
        valid_at=_aware(valid_at, "valid_at"),
        known_at=_aware(known_at, "known_at"),
    )
    if version is None:
        raise HTTPException(404, f"no {entity_type} {record_id} at that time")
    return version


@router.get("/records", summary="Live records per entity type")
def entity_counts(store: StoreDep, _: ViewerDep) -> list[EntityCount]:
    return [EntityCount(entity_type=t, records=n) for t, n in store.counts().items()]


@router.get("/records/{entity_type}", summary="Records of a type as of valid/known times")
def list_records(
    entity_type: EntityPath,
    store: StoreDep,
    _: ViewerDep,
    valid_at: ValidAt = None,
    known_at: KnownAt = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RecordPage:
    versions = store.iter_records(
        _entity(entity_type),
        valid_at=_aware(valid_at, "valid_at"),
        known_at=_aware(known_at, "known_at"),
    )
    items = [public(v) for v in itertools.islice(versions, offset, offset + limit)]
    return RecordPage(entity_type=entity_type, offset=offset, limit=limit, items=items)


@router.get("/records/{entity_type}/{record_id}", summary="One record as of valid/known times")
def get_record(
    entity_type: EntityPath,
    record_id: IdPath,
    store: StoreDep,
    _: ViewerDep,
    valid_at: ValidAt = None,
    known_at: KnownAt = None,
) -> RecordPublic:
    return public(_one(store, entity_type, record_id, valid_at, known_at))


@router.get("/records/{entity_type}/{record_id}/history", summary="Every version ever recorded")
def record_history(
    entity_type: EntityPath, record_id: IdPath, store: StoreDep, _: ViewerDep
) -> list[RecordPublic]:
    versions = store.history(_entity(entity_type), record_id)
    if not versions:
        raise HTTPException(404, f"no {entity_type} {record_id}")
    return [public(v) for v in versions]


@router.get(
    "/records/{entity_type}/{record_id}/provenance",
    summary="Which system, transaction and time set each field",
)
def record_provenance(
    entity_type: EntityPath,
    record_id: IdPath,
    store: StoreDep,
    _: ViewerDep,
    valid_at: ValidAt = None,
    known_at: KnownAt = None,
) -> list[FieldProvenance]:
    version = _one(store, entity_type, record_id, valid_at, known_at)
    prov = tracing.field_provenance(store, version)
    return [
        FieldProvenance.model_validate({"name": k, "value": v, "provenance": prov.get(k)})
        for k, v in version.payload.items()
    ]


@router.get("/records/{entity_type}/{record_id}/xrefs", summary="IDs of the record elsewhere")
def record_xrefs(
    entity_type: EntityPath, record_id: IdPath, store: StoreDep, _: ViewerDep
) -> list[XrefPublic]:
    found = store.xrefs(_entity(entity_type), record_id)
    return [XrefPublic(system_object=k, external_id=v) for k, v in sorted(found.items())]


@router.get(
    "/trace/{entity_type}/{record_id}",
    summary="A deal's path to project, contract, invoices and revenue, with field provenance",
)
def trace_record(
    entity_type: EntityPath,
    record_id: IdPath,
    store: StoreDep,
    _: ViewerDep,
    valid_at: ValidAt = None,
    known_at: KnownAt = None,
) -> TracePublic:
    if _entity(entity_type) not in tracing.TRACEABLE:
        raise HTTPException(404, f"{entity_type} is not on a deal's path")
    as_of = tracing.AsOf(_aware(valid_at, "valid_at"), _aware(known_at, "known_at"))
    try:
        return TracePublic.model_validate(tracing.trace(store, entity_type, record_id, as_of))
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
