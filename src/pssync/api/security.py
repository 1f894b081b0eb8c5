"""Who is calling and what they may do: API keys, OAuth 2.0 bearer tokens, roles, rate limits.

Credentials arrive as ``Authorization: Bearer <key or JWT>`` or ``X-API-Key: <key>``. Keys
begin with ``pss_``; anything else after ``Bearer`` is treated as a client-credentials JWT.
A JWT exchanged for an API key
(``/oauth/token``) is refused as soon as that key is revoked, not when the token expires.
Every route declares the least role it needs with `require(Role.X)`; roles are ordered
viewer < operator < admin. The rate limit is charged after identification, per principal, so
one client's burst cannot use up another's allowance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from pssync.api import metrics
from pssync.api.context import AppContext
from pssync.api.keys import PREFIX, Role
from pssync.api.tokens import KEY_CLAIM, TokenError

bearer_scheme = HTTPBearer(auto_error=False, description="API key (pss_...) or OAuth 2.0 JWT.")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key.")


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    via: str  # "api_key", "jwt" or "session"


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def role_from_claims(claims: dict[str, Any]) -> Role | None:
    """`role` claim, else the highest ``pssync:<role>`` (or bare role) in `scope`."""
    names = [str(claims["role"])] if "role" in claims else []
    names += [s.removeprefix("pssync:") for s in str(claims.get("scope", "")).split()]
    roles = []
    for name in names:
        try:
            roles.append(Role.parse(name))
        except ValueError:
            continue
    return max(roles) if roles else None


def identify(ctx: AppContext, bearer: str | None, api_key: str | None) -> Principal:
    """The principal behind the presented credentials, or 401."""
    if api_key:
        info = ctx.keys.verify(api_key)
        if info is None:
            raise _unauthorized("invalid API key")
        return Principal(info.name, info.role, "api_key")
    if not bearer:
        raise _unauthorized("credentials required")
    if bearer.startswith(f"{PREFIX}_"):
        info = ctx.keys.verify(bearer)
        if info is None:
            raise _unauthorized("invalid API key")
        return Principal(info.name, info.role, "api_key")
    try:
        claims = ctx.tokens.verify(bearer)
    except TokenError as exc:
        raise _unauthorized(f"invalid token: {exc}") from None
    if KEY_CLAIM in claims:
        # Exchanged for an API key: valid only while that key is (revocation is immediate).
        key = ctx.keys.get(str(claims[KEY_CLAIM]))
        if key is None or key.revoked_at is not None or key.name != claims["sub"]:
            raise _unauthorized("invalid token: its API key was revoked")
    role = role_from_claims(claims)
    if role is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "token grants no pssync role")
    return Principal(f"oauth:{claims['sub']}", role, "jwt")


def charge(ctx: AppContext, principal: Principal) -> None:
    """Spend one request from the principal's bucket, or answer 429 with Retry-After."""
    wait = ctx.limiter.take(principal.name)
    if wait is not None:
        metrics.RATE_LIMITED.labels(principal.name).inc()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "rate limit exceeded",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


def authenticated(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    principal = identify(ctx, bearer.credentials if bearer else None, api_key)
    request.state.principal = principal.name
    charge(ctx, principal)
    return principal


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting principals with at least `role` (403 otherwise)."""

    def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role < role:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"{role.label} role required (you are {principal.role.label})",
            )
        return principal

    check.required_role = role  # type: ignore[attr-defined]
    return check
