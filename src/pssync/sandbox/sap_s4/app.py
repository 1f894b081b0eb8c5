"""The HTTP face of the SAP emulator: routing, basic auth, CSRF, content negotiation, errors.

Paths follow SAP Gateway: ``/sap/opu/odata/sap/<SERVICE>/`` is the service document,
``$metadata`` the model, ``<Set>`` a collection (``/$count`` its size) and ``<Set>(<key>)`` one
entity, keyed ``('1000042')``, ``(BusinessPartner='1000042')`` or ``(guid'…')``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pssync.sandbox.sap_s4 import render
from pssync.sandbox.sap_s4.csrf import SESSION_COOKIE, CsrfGuard
from pssync.sandbox.sap_s4.errors import ERROR_CONTENT_TYPE, ODataError, error_document
from pssync.sandbox.sap_s4.filter import FilterError, literal, tokenize
from pssync.sandbox.sap_s4.metadata import render_metadata
from pssync.sandbox.sap_s4.query import ReadOptions, run_query, select_fields
from pssync.sandbox.sap_s4.records import Repository
from pssync.sandbox.sap_s4.schema import SERVICE_ROOT, SERVICES, EntitySet, Service

JSON = "application/json;charset=utf-8"
WRITE_METHODS = {"POST", "PUT", "PATCH", "MERGE", "DELETE"}
_RESOURCE = re.compile(r"^(?P<set>[A-Za-z_]\w*)(?:\((?P<key>.*)\))?(?P<count>/\$count)?$")


class SapApp:
    """Handlers bound to one emulator's repository, credentials and CSRF guard."""

    def __init__(self, repo: Repository, username: str, password: str, page_size: int) -> None:
        self.repo = repo
        self.username = username
        self.password = password
        self.page_size = page_size
        self.csrf = CsrfGuard()

    def asgi(self) -> Starlette:
        methods = ["GET", "HEAD", *sorted(WRITE_METHODS)]
        return Starlette(
            routes=[
                Route(SERVICE_ROOT + "/{service}", self.handle, methods=methods),
                Route(SERVICE_ROOT + "/{service}/{rest:path}", self.handle, methods=methods),
            ]
        )

    async def handle(self, request: Request) -> Response:
        service_name = request.path_params["service"]
        service = SERVICES.get(service_name.upper())
        try:
            self._authenticate(request)
            if service is None:
                raise ODataError(404, f"No service found for name '{service_name}'")
            response = await self._dispatch(request, service)
        except ODataError as exc:
            body = error_document(exc.status, exc.message, service_name, exc.target)
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
        service_url = f"{str(request.base_url).rstrip('/')}{SERVICE_ROOT}/{service.name}/"
        if rest in ("", "/"):
            response = self._service_document(request, service, service_url)
        elif rest == "$metadata":
            response = Response(render_metadata(service), media_type="application/xml")
        else:
            response = await self._resource(request, method, service, service_url, rest)
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
        if _wants_json(request):
            return _json(render.service_document_json(service))
        return Response(render.service_document_xml(service, url), media_type="application/xml")

    async def _resource(
        self, request: Request, method: str, service: Service, url: str, rest: str
    ) -> Response:
        match = _RESOURCE.match(rest)
        entity_set = service.entity_set(match.group("set")) if match else None
        if match is None or entity_set is None:
            raise ODataError(404, f"Resource not found for segment '{rest}'", service=service.name)
        key_text, count = match.group("key"), match.group("count")
        if key_text is None and method in ("GET", "HEAD"):
            return self._read_set(request, service, entity_set, url, bool(count))
        if key_text is None and method == "POST":
            record = self.repo.create(entity_set, await _body(request))
            body = {"d": render.entity(service, entity_set, record, url)}
            location = body["d"]["__metadata"]["uri"]
            return _json(body, 201, {"location": location})
        if key_text is None or count:
            raise ODataError(405, f"Method {method} not allowed here")
        key = parse_key(entity_set, key_text)
        if method in ("GET", "HEAD"):
            found = self.repo.get(entity_set, key)
            if found is None:
                raise ODataError(404, f"Resource not found for segment '{entity_set.type_name}'")
            select = select_fields(entity_set, request.query_params.get("$select"))
            return _json({"d": render.entity(service, entity_set, found, url, select)})
        if method in ("PUT", "PATCH", "MERGE"):
            self.repo.update(entity_set, key, await _body(request), replace=method == "PUT")
        elif method == "DELETE":
            self.repo.delete(entity_set, key)
        else:
            raise ODataError(405, f"Method {method} not allowed here")
        return Response(status_code=204)

    def _read_set(
        self, request: Request, service: Service, entity_set: EntitySet, url: str, count: bool
    ) -> Response:
        params = request.query_params
        opts = ReadOptions.parse(params)
        if count:
            opts = ReadOptions(filter=opts.filter)
            size = len(run_query(entity_set, self.repo.all(entity_set), opts, 10**9).rows)
            return Response(str(size), media_type="text/plain")
        if not _wants_json(request):
            raise ODataError(
                406, "Only JSON is served: send $format=json or Accept: application/json"
            )
        select = select_fields(entity_set, opts.select)
        page = run_query(entity_set, self.repo.all(entity_set), opts, self.page_size)
        data: dict[str, Any] = {}
        if page.count is not None:
            data["__count"] = str(page.count)
        data["results"] = [render.entity(service, entity_set, r, url, select) for r in page.rows]
        if page.next_skiptoken is not None:
            query = {k: v for k, v in params.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(page.next_skiptoken)
            data["__next"] = f"{url}{entity_set.name}?{urlencode(query)}"
        return _json({"d": data})


class CsrfRequiredError(ODataError):
    def __init__(self) -> None:
        super().__init__(403, "CSRF token validation failed", headers={"x-csrf-token": "Required"})


def parse_key(entity_set: EntitySet, text: str) -> dict[str, Any]:
    """Key values (wire shape) from ``'1'``, ``guid'…'`` or ``Name='1',Other='2'``."""
    try:
        tokens = tokenize(text)
    except FilterError as exc:
        raise ODataError(400, f"Invalid key predicate ({text})") from exc
    values: dict[str, Any] = {}
    if len(tokens) == 1 and len(entity_set.keys) == 1:
        tokens = [("name", entity_set.keys[0]), ("punct", "="), *tokens]
    for i in range(0, len(tokens), 4):
        chunk = tokens[i : i + 4]
        ok = len(chunk) >= 3 and chunk[0][0] == "name" and chunk[1] == ("punct", "=")
        if not ok or chunk[0][1] not in entity_set.keys or chunk[2][0] not in ("string", "typed"):
            raise ODataError(400, f"Invalid key predicate ({text})")
        try:
            values[chunk[0][1]] = str(literal(chunk[2][0], chunk[2][1]))
        except FilterError as exc:
            raise ODataError(400, f"Invalid key predicate ({text})") from exc
    if set(values) != set(entity_set.keys):
        raise ODataError(400, f"Invalid key predicate ({text})")
    return values


def _wants_json(request: Request) -> bool:
    fmt = request.query_params.get("$format")
    if fmt is not None:
        return fmt.lower() == "json"
    return "application/json" in request.headers.get("accept", "")


async def _body(request: Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise ODataError(400, "The request body is not valid JSON") from exc
    if isinstance(payload, dict) and isinstance(payload.get("d"), dict):
        payload = payload["d"]
    if not isinstance(payload, dict):
        raise ODataError(400, "The request body must be a JSON object")
    return payload


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status, headers, media_type=JSON)
