"""The HTTP face of the SAP emulator: routing, basic auth, CSRF, content negotiation, errors.

Paths follow SAP Gateway: ``/sap/opu/odata/sap/<SERVICE>/`` is the service document,
``$metadata`` the model, ``$batch`` the batch endpoint, ``<Set>`` a collection (``/$count`` its
size) and ``<Set>(<key>)`` one entity, keyed ``('1000042')``, ``(BusinessPartner='1000042')`` or
``(guid'…')``. What an operation does is in `operations`; `batch` runs many in one request.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pssync.sandbox.sap_s4 import render
from pssync.sandbox.sap_s4.batch import run_batch
from pssync.sandbox.sap_s4.csrf import SESSION_COOKIE, CsrfGuard
from pssync.sandbox.sap_s4.errors import ERROR_CONTENT_TYPE, ODataError, error_document
from pssync.sandbox.sap_s4.metadata import render_metadata
from pssync.sandbox.sap_s4.operations import (
    JSON,
    WRITE_METHODS,
    Answer,
    Call,
    Operations,
    wants_json,
)
from pssync.sandbox.sap_s4.records import Repository
from pssync.sandbox.sap_s4.schema import SERVICE_ROOT, SERVICES, Service

__all__ = ["CsrfRequiredError", "SapApp"]


class SapApp:
    """Handlers bound to one emulator's repository, credentials and CSRF guard."""

    def __init__(self, repo: Repository, username: str, password: str, page_size: int) -> None:
        self.repo = repo
        self.username = username
        self.password = password
        self.page_size = page_size
        self.csrf = CsrfGuard()
        self.ops = Operations(repo, page_size)

    def asgi(self) -> Starlette:
        methods = ["GET", "HEAD", *sorted(WRITE_METHODS)]
        return Starlette(
            routes=[
                Route(SERVICE_ROOT + "/{service}", self.handle, methods=methods),
                Route(SERVICE_ROOT + "/{service}/{rest:path}", self.handle, methods=methods),
            ]
        )

    async def handle(self, request: Request) -> Response:
        # ``API_X;v=0002`` addresses version 2 of a service (SAP Gateway's matrix parameter);
        # the emulator serves one version of each.
        service_name = request.path_params["service"].split(";", 1)[0]
        service = SERVICES.get(service_name.upper())
        try:
            self._authenticate(request)
            if service is None:
                raise ODataError(404, f"No service found for name '{service_name}'")
            response = await self._dispatch(request, service)
        except ODataError as exc:
            body = error_document(exc.status, exc.message, service_name, exc.target, exc.code)
            response = Response(body, exc.status, exc.headers, media_type=ERROR_CONTENT_TYPE)
        response.headers["dataserviceversion"] = "2.0"
        return response

    def _authenticate(self, request: Request) -> None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        ok = scheme.lower() == "basic" and secrets.compare_digest(
            f"{user}:{password}", f"{self.username}:{self.password}"
        )
        if not ok:
            realm = 'Basic realm="SAP NetWeaver Application Server [PSE/100]"'
            raise ODataError(401, "Logon failed", headers={"www-authenticate": realm})

    async def _dispatch(self, request: Request, service: Service) -> Response:
        method = request.method.upper()
        override = request.headers.get("x-http-method", "").upper()
        if method == "POST" and override in WRITE_METHODS:
            method = override
        if method in WRITE_METHODS:
            self._check_csrf(request)
        rest: str = request.path_params.get("rest", "")
        segment = request.path_params["service"]
        service_url = f"{str(request.base_url).rstrip('/')}{SERVICE_ROOT}/{segment}/"
        if rest in ("", "/"):
            response = self._service_document(request, service, service_url)
        elif rest == "$metadata":
            response = Response(render_metadata(service), media_type="application/xml")
        elif rest == "$batch":
            if method != "POST":
                raise ODataError(405, "$batch takes POST")
            content_type = request.headers.get("content-type", "")
            answer = run_batch(self.ops, service, service_url, content_type, await request.body())
            response = _response(answer)
        else:
            call = Call(
                method,
                rest,
                dict(request.query_params),
                {k.lower(): v for k, v in request.headers.items()},
                await request.body(),
            )
            response = _response(self.ops.run(call, service, service_url))
        if request.headers.get("x-csrf-token", "").lower() == "fetch" and method in ("GET", "HEAD"):
            session, token = self.csrf.issue(request.cookies.get(SESSION_COOKIE))
            response.headers["x-csrf-token"] = token
            response.set_cookie(SESSION_COOKIE, session, path="/", httponly=True)
            response.set_cookie("sap-usercontext", "sap-client=100", path="/")
        return response

    def _check_csrf(self, request: Request) -> None:
        if not self.csrf.valid(
            request.cookies.get(SESSION_COOKIE), request.headers.get("x-csrf-token")
        ):
            raise CsrfRequiredError()

    def _service_document(self, request: Request, service: Service, url: str) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if wants_json(request.query_params, headers):
            return _json(render.service_document_json(service))
        return Response(render.service_document_xml(service, url), media_type="application/xml")


class CsrfRequiredError(ODataError):
    def __init__(self) -> None:
        super().__init__(403, "CSRF token validation failed", headers={"x-csrf-token": "Required"})


def _response(answer: Answer) -> Response:
    return Response(answer.body, answer.status, answer.headers, media_type=answer.media_type)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status, media_type=JSON)
