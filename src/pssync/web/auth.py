"""Dashboard login: an API key is exchanged for a session (a signed cookie naming a row kept
server-side, ended by logout); forms carry CSRF.

Pages depend on `UserDep` (any role) or check `user.role` for actions. A missing or stale
session redirects to /login with the page to return to; `next` only ever points inside the
dashboard, so the login form cannot be used as an open redirect.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pssync.api.context import AppContext
from pssync.api.keys import Role
from pssync.api.security import get_ctx
from pssync.web import session as sessions
from pssync.web.templating import templates

router = APIRouter(include_in_schema=False)


class LoginRequiredError(Exception):
    """Raised by `current_user`; the app turns it into a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def safe_next(value: str | None) -> str:
    """Only local dashboard paths; anything else (//evil, https://...) becomes the home page."""
    if value and value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/forecast"


def current_user(
    request: Request, ctx: Annotated[AppContext, Depends(get_ctx)]
) -> sessions.Session:
    found = sessions.sessions_of(ctx).read(request.cookies.get(sessions.COOKIE))
    if found is not None:
        key = ctx.keys.get(found.key_id)
        if key is not None and key.revoked_at is None and key.role == found.role:
            request.state.principal = found.name
            return found
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequiredError(path)


UserDep = Annotated[sessions.Session, Depends(current_user)]


def check_form(user: sessions.Session, csrf: str, role: Role = Role.OPERATOR) -> None:
    """CSRF token must match the session's, and the user must hold `role`."""
    if not hmac.compare_digest(user.csrf, csrf):
        raise HTTPException(403, "stale or forged form; reload the page")
    if user.role < role:
        raise HTTPException(403, f"{role.label} role required")


def login_redirect(exc: LoginRequiredError) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": safe_next(next), "error": None, "user": None}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    ctx: Annotated[AppContext, Depends(get_ctx)],
    api_key: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/ui/forecast",
) -> Response:
    client = request.client.host if request.client else "unknown"
    wait = ctx.limiter.take(f"login:{client}")
    info = None if wait is not None else ctx.keys.verify(api_key.strip())
    if info is None:
        context = {"next": safe_next(next), "error": "That key is not valid.", "user": None}
        status = 429 if wait is not None else 401
        return templates.TemplateResponse(request, "login.html", context, status_code=status)
    value = sessions.sessions_of(ctx).start(info.key_id, info.name, info.role)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        value,
        max_age=ctx.api.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=ctx.api.cookie_secure,
    )
    return response


@router.post("/logout")
def logout(request: Request, ctx: Annotated[AppContext, Depends(get_ctx)]) -> Response:
    """End the session server-side (a copied cookie stops working too) and drop the cookie."""
    sessions.sessions_of(ctx).end(request.cookies.get(sessions.COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE)
    return response
