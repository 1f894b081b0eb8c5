"""Integration health: per connected system (`pssync.api.health` providers), and per system
and object from the engine's tables (`pssync.api.integration`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from pssync.api import health, integration
from pssync.api.deps import CtxDep, ViewerDep
from pssync.api.schemas.forecast import ConnectorHealth
from pssync.api.schemas.surfaces import IntegrationHealthPublic

router = APIRouter(prefix="/connectors", tags=["connectors"])


@router.get("/health", summary="Per system: xrefs, last change, open exceptions, engine fields")
def connector_health(ctx: CtxDep, _: ViewerDep) -> list[ConnectorHealth]:
    rows = health.collect(ctx.store, ctx.health_providers)
    return [ConnectorHealth.model_validate(r) for r in rows]


def integration_health(ctx: CtxDep, window_minutes: int = 60) -> IntegrationHealthPublic:
    now = dt.datetime.now(dt.UTC)
    systems = integration.collect(ctx.store, now, dt.timedelta(minutes=window_minutes))
    return IntegrationHealthPublic.model_validate(
        {
            "now": now,
            "window_minutes": window_minutes,
            "systems": [
                {**vars(s), "status": s.status, "objects": [vars(o) for o in s.objects]}
                for s in systems
            ],
        }
    )


@router.get(
    "/health/objects",
    summary="Per system and object: lag, throughput, error rate, dead letters, last success",
)
def object_health(
    ctx: CtxDep,
    _: ViewerDep,
    window_minutes: Annotated[int, Query(ge=1, le=10080)] = 60,
) -> IntegrationHealthPublic:
    return integration_health(ctx, window_minutes)
