"""Liveness, Prometheus metrics, the OAuth 2.0 token endpoint and API key administration.

/healthz is the only route that answers without credentials (it says nothing but "ok" and
whether the database answers). /oauth/token exchanges client credentials (key name and key)
for a short-lived JWT, so machine clients need not send the long-lived key on every call.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pssync.api import health, metrics
from pssync.api.deps import AdminDep, CtxDep, ViewerDep, audit_call
from pssync.api.keys import KeyInfo, Role

router = APIRouter()


class Health(BaseModel):
    status: str
    database: bool


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[\w.@-]+$")
    role: Literal["viewer", "operator", "admin"] = "viewer"


class KeyPublic(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: str
    revoked: bool


class KeyCreated(KeyPublic):
    key: str = Field(description="The key itself: shown once, store it now.")


def _key(info: KeyInfo) -> KeyPublic:
    return KeyPublic(
        key_id=info.key_id,
        name=info.name,
        role=info.role.label,
        created_at=info.created_at.isoformat(),
        revoked=info.revoked_at is not None,
    )


@router.get("/healthz", tags=["system"], summary="Liveness (no credentials)")
def healthz(ctx: CtxDep, response: Response) -> Health:
    try:
        with ctx.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        ok = True
    except SQLAlchemyError:
        ok = False
    response.status_code = 200 if ok else 503
    return Health(status="ok" if ok else "degraded", database=ok)


@router.get("/metrics", tags=["system"], summary="Prometheus metrics", response_class=Response)
def prometheus(ctx: CtxDep, _: ViewerDep) -> Response:
    collector = metrics.ExceptionCollector(lambda: health.exception_counts(ctx.store))
    return Response(metrics.render(collector), media_type="text/plain; version=0.0.4")


@router.post("/oauth/token", tags=["auth"], summary="OAuth 2.0 client credentials grant")
def token(
    ctx: CtxDep,
    grant_type: Annotated[Literal["client_credentials"], Form()],
    client_id: Annotated[str, Form(min_length=1, max_length=128)],
    client_secret: Annotated[str, Form(min_length=1, max_length=200)],
) -> TokenResponse:
    if ctx.tokens.secret is None:
        raise HTTPException(404, "token issuing is not configured (PSSYNC_API_JWT_SECRET)")
    info = ctx.keys.verify(client_secret)
    if info is None or info.name != client_id:
        raise HTTPException(401, "invalid_client", headers={"WWW-Authenticate": "Basic"})
    ttl = ctx.api.token_ttl_seconds
    access = ctx.tokens.issue(info.name, info.role.label, ttl, key_id=info.key_id)
    return TokenResponse(access_token=access, expires_in=ttl, scope=f"pssync:{info.role.label}")


@router.get("/api/v1/admin/keys", tags=["admin"], summary="API keys (never the keys themselves)")
def list_keys(ctx: CtxDep, _: AdminDep) -> list[KeyPublic]:
    return [_key(k) for k in ctx.keys.list()]


@router.post("/api/v1/admin/keys", tags=["admin"], summary="Create a key", status_code=201)
def create_key(body: KeyCreate, request: Request, ctx: CtxDep, who: AdminDep) -> KeyCreated:
    try:
        info, key = ctx.keys.create(body.name, Role.parse(body.role), actor=who.name)
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    audit_call(ctx.store, request, who, "key.create", entity_type="ApiKey", record_id=info.key_id)
    return KeyCreated(**_key(info).model_dump(), key=key)


@router.delete("/api/v1/admin/keys/{name}", tags=["admin"], summary="Revoke a key")
def revoke_key(
    name: Annotated[str, Path(max_length=128)], request: Request, ctx: CtxDep, who: AdminDep
) -> KeyPublic:
    try:
        info = ctx.keys.revoke(name, actor=who.name)
    except KeyError:
        raise HTTPException(404, f"no key named {name!r}") from None
    audit_call(ctx.store, request, who, "key.revoke", entity_type="ApiKey", record_id=info.key_id)
    return _key(info)
