"""HTTP plumbing: paths, authentication, the API allowance, JSON in and out.

Everything Salesforce-specific about *resources* lives in `api`; this layer does what the
platform does around every call: accept any trailing slash (simple-salesforce adds them),
check the bearer token (401 INVALID_SESSION_ID), count the call against the daily allowance
(403 REQUEST_LIMIT_EXCEEDED) and report usage in ``Sforce-Limit-Info`` on every response.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Send as StarletteSend

from pssync.sandbox.common.faults import ASGIApp, Receive, Scope, Send
from pssync.sandbox.salesforce.auth import OAuthError
from pssync.sandbox.salesforce.errors import STATUS_CODES, SalesforceError, status_error
from pssync.sandbox.salesforce.routing import Ctx, Reply

if TYPE_CHECKING:
    from pssync.sandbox.salesforce.emulator import SalesforceEmulator

CONTENT_TYPE = "application/json;charset=UTF-8"
CSV_TYPE = "text/csv"
_VERSION = re.compile(r"^(\d{2})\.0$")
MIN_VERSION, MAX_VERSION = 20, 66
ADMIN = "/_emulator"


def release_label(version: int) -> str:
    """59.0 is "Winter '24"; releases go Winter, Spring, Summer, three a year."""
    offset = version - 59
    season = ("Winter", "Spring", "Summer")[offset % 3]
    return f"{season} '{24 + offset // 3}"


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    if isinstance(body, str) and (headers or {}).get("Content-Type") == CSV_TYPE:
        return Response(body, status_code=status, headers=headers)  # Bulk API 2.0 CSV
    return Response(json.dumps(body), status_code=status, headers=headers, media_type=CONTENT_TYPE)


def build_app(emulator: SalesforceEmulator) -> ASGIApp:
    api, sessions, usage = emulator.api, emulator.sessions, emulator.usage

    async def versions(request: Request) -> Response:
        return _json(
            200,
            [
                {"label": release_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
                for v in range(31, MAX_VERSION + 1)
            ],
        )

    async def data(request: Request) -> Response:
        version = request.path_params["version"]
        rest = "/" + request.path_params.get("rest", "").strip("/")
        match = _VERSION.match(version)
        if match is None or not MIN_VERSION <= int(match.group(1)) <= MAX_VERSION:
            return _json(404, SalesforceError(404, "NOT_FOUND", STATUS_CODES[404][1]).envelope())
        token = sessions.bearer(request.headers.get("authorization"))
        if token is None or not sessions.valid(token):
            return _json(401, status_error(401, ""), {"WWW-Authenticate": "Token"})
        if not usage.consume():
            return _json(403, status_error(403, ""), {"Sforce-Limit-Info": usage.header})
        limit = {"Sforce-Limit-Info": usage.header}
        raw = await request.body()
        try:
            if request.headers.get("content-type", "").startswith(CSV_TYPE):
                body: Any = raw.decode("utf-8")  # Bulk API 2.0 job data
            else:
                body = json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError) as exc:
            error = SalesforceError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}")
            return _json(400, error.envelope(), limit)
        ctx = Ctx(
            version=version,
            method=request.method,
            params=dict(request.query_params),
            body=body,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        path = "" if rest == "/" else rest
        reply: Reply = await run_in_threadpool(api.dispatch, request.method, path, ctx)
        return _json(reply.status, reply.body, {**reply.headers, **limit})

    async def token(request: Request) -> Response:
        # Parsed here rather than with request.form(), which needs python-multipart.
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        basic = _basic(request.headers.get("authorization"))
        instance_url = str(request.base_url).rstrip("/")
        try:
            body = sessions.token(form, basic, instance_url)
        except OAuthError as exc:
            return JSONResponse(exc.body, status_code=exc.status)
        return JSONResponse(body)

    async def expire(request: Request) -> Response:
        sessions.expire_all()
        return JSONResponse({"session_id": sessions.default})

    async def limits(request: Request) -> Response:
        if request.method == "PUT":
            values = await request.json()
            usage.set(daily_limit=values.get("daily_limit"), used=values.get("used"))
        return JSONResponse({"daily_limit": usage.daily_limit, "used": usage.used})

    async def locks(request: Request) -> Response:
        row_locks = emulator.records.locks
        if request.method == "PUT":
            values = await request.json()
            row_locks.arm(int(values.get("count", 0)), values.get("object"))
        return JSONResponse(row_locks.state())

    methods = ["GET", "POST", "PATCH", "DELETE", "PUT"]
    routes = [
        Route("/services/data", versions, methods=["GET"]),
        Route("/services/data/v{version}", data, methods=methods),
        Route("/services/data/v{version}/{rest:path}", data, methods=methods),
        Route("/services/oauth2/token", token, methods=["POST"]),
        Route(f"{ADMIN}/sessions/expire", expire, methods=["POST"]),
        Route(f"{ADMIN}/limits", limits, methods=["GET", "PUT"]),
        Route(f"{ADMIN}/locks", locks, methods=["GET", "PUT"]),
    ]
    app = Starlette(routes=routes)
    app.router.redirect_slashes = False

    async def not_found(request: Request, exc: Exception) -> Response:
        return _json(404, status_error(404, ""))

    app.add_exception_handler(404, not_found)

    async def without_trailing_slash(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
        await app(scope, receive, cast(StarletteSend, send))

    return without_trailing_slash


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret
