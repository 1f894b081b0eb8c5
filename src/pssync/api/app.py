"""The FastAPI application: REST API under /api/v1, dashboard under /ui, and system routes.

`create_app` takes the core `Settings` (or just a database URL) so the same factory serves
`pssync serve`, the tests (one app per temporary database) and an ASGI server
(``uvicorn --factory pssync.api:create_app``). Resources are released by
``app.state.ctx.close()``, not on lifespan shutdown: test clients and fuzzers start and stop
the lifespan many times over one app.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from pssync.api.config import ApiSettings
from pssync.api.context import AppContext
from pssync.api.errors import ERRORS
from pssync.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from pssync.api.routes import connectors, exceptions, forecast, kpis, records, system
from pssync.api.security import identify
from pssync.config import Settings, load_settings
from pssync.governance.exceptions import TransitionError
from pssync.web import session as sessions

API_PREFIX = "/api/v1"
DESCRIPTION = """\
Canonical records (bitemporal), traces with field provenance, the exceptions inbox, forecast
versions with P10/P50/P90 bands and drill-down, KPIs and integration health.

Authenticate with `Authorization: Bearer <API key or OAuth 2.0 JWT>` or `X-API-Key: <API key>`.
Roles: viewer (read) < operator (act on exceptions, run forecasts) < admin (manage keys).
"""


def _settings(source: Settings | str | None) -> Settings:
    if isinstance(source, Settings):
        return source
    settings = load_settings()
    return settings if source is None else settings.model_copy(update={"database_url": source})


def create_app(source: Settings | str | None = None, api: ApiSettings | None = None) -> FastAPI:
    """Build the app over `source` (Settings, a database URL, or ./pssync.yaml + environment)."""
    settings, api_settings = _settings(source), api or ApiSettings()
    ctx = AppContext.build(settings, api_settings)

    app = FastAPI(
        title="pssync",
        version="1",
        description=DESCRIPTION,
        openapi_url=None,  # served below, behind credentials like every other endpoint
        docs_url=None,
        redoc_url=None,
    )
    _describe(app)
    app.state.ctx = ctx
    app.include_router(system.router, responses=ERRORS)
    for module in (records, exceptions, forecast, kpis, connectors):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERRORS)
    _mount_web(app)

    @app.exception_handler(TransitionError)
    async def _conflict(_: Request, exc: TransitionError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    app.add_middleware(BodySizeLimitMiddleware, max_bytes=api_settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def _describe(app: FastAPI) -> None:
    """The OpenAPI document and its Swagger page, for any authenticated caller: an API key or
    token (scripts, schemathesis) or a dashboard session (a browser)."""

    def admitted(request: Request) -> None:
        ctx = request.app.state.ctx
        header = request.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        api_key = request.headers.get("x-api-key")
        if bearer or api_key:
            identify(ctx, bearer, api_key)
            return
        if sessions.sessions_of(ctx).read(request.cookies.get(sessions.COOKIE)) is None:
            raise HTTPException(401, "credentials required", {"WWW-Authenticate": "Bearer"})

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        admitted(request)
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        admitted(request)
        return get_swagger_ui_html(openapi_url="/openapi.json", title="pssync API")


def _mount_web(app: FastAPI) -> None:
    """The dashboard lives in `pssync.web`; imported here so the API works without it too."""
    from pssync.web import mount

    mount(app)
