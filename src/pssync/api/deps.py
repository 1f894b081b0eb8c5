"""Dependency aliases for the routes: the stores, the caller (by least role), and auditing.

`ViewerDep`, `OperatorDep` and `AdminDep` are both the permission declaration of a route and
the way it learns who is calling; a route that takes none of them is public, and the
authorization test lists exactly which routes may be (only /healthz and the credential
exchanges).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from pssync.api.context import AppContext
from pssync.api.forecast_service import ForecastService
from pssync.api.keys import Role
from pssync.api.security import Principal, get_ctx, require
from pssync.governance.exceptions import ExceptionStore
from pssync.store import GoldenStore, audit


def get_store(ctx: Annotated[AppContext, Depends(get_ctx)]) -> GoldenStore:
    return ctx.store


def get_exceptions(ctx: Annotated[AppContext, Depends(get_ctx)]) -> ExceptionStore:
    return ctx.exceptions


def get_forecast(ctx: Annotated[AppContext, Depends(get_ctx)]) -> ForecastService:
    return ctx.forecast


CtxDep = Annotated[AppContext, Depends(get_ctx)]
StoreDep = Annotated[GoldenStore, Depends(get_store)]
ExceptionsDep = Annotated[ExceptionStore, Depends(get_exceptions)]
ForecastDep = Annotated[ForecastService, Depends(get_forecast)]
ViewerDep = Annotated[Principal, Depends(require(Role.VIEWER))]
OperatorDep = Annotated[Principal, Depends(require(Role.OPERATOR))]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]


def audit_call(
    store: GoldenStore,
    request: Request,
    principal: Principal,
    verb: str,
    *,
    entity_type: str | None = None,
    record_id: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Write ``api.<verb>`` by the calling principal, with the request's correlation ID."""
    entry = audit.AuditEntry(
        at=dt.datetime.now(dt.UTC),
        transaction_id=uuid.uuid4().hex,
        actor=principal.name,
        action=f"api.{verb}"[:32],
        entity_type=entity_type,
        record_id=record_id,
        changes=audit.to_json(changes or {}),
        correlation_id=getattr(request.state, "correlation_id", None),
    )
    with store.engine.begin() as conn:
        audit.append(conn, [entry])
