"""Integration health per connected system (see `pssync.api.health` for the providers)."""

from __future__ import annotations

from fastapi import APIRouter

from pssync.api import health
from pssync.api.deps import CtxDep, ViewerDep
from pssync.api.schemas.forecast import ConnectorHealth

router = APIRouter(prefix="/connectors", tags=["connectors"])


@router.get("/health", summary="Per system: xrefs, last change, open exceptions, engine fields")
def connector_health(ctx: CtxDep, _: ViewerDep) -> list[ConnectorHealth]:
    rows = health.collect(ctx.store, ctx.health_providers)
    return [ConnectorHealth.model_validate(r) for r in rows]
