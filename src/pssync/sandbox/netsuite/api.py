"""The NetSuite REST HTTP surface: record API, SuiteQL, auth and concurrency governance.

Routes follow Oracle's SuiteTalk REST documentation: `/services/rest/record/v1/{type}` (GET list
with `limit`/`offset` paging and HATEOAS `links`, POST create answering 204 + `Location`),
`/services/rest/record/v1/{type}/{id | eid:externalId}` (GET, PATCH, DELETE, PUT = upsert by
external ID) and `POST /services/rest/query/v1/suiteql` (`Prefer: transient`), plus SOAP's
`upsertList` at `/services/NetSuitePort_2024_2` (see `soap`).

Every request passes the governance gate first (NetSuite limits *concurrent* requests per
account and answers 429 beyond it), then authentication, then the handler; any NetSuiteError
becomes NetSuite's error body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pssync.sandbox.common.memtable import Record
from pssync.sandbox.netsuite.errors import INVALID_LOGIN_DETAIL, NetSuiteError
from pssync.sandbox.netsuite.oauth1 import SignedRequest, TbaRejectedError
from pssync.sandbox.netsuite.oauth2 import TOKEN_PATH, OAuth2Error
from pssync.sandbox.netsuite.query import project
from pssync.sandbox.netsuite.service import EID_PREFIX
from pssync.sandbox.netsuite.soap import SOAP_PATH, SoapService
from pssync.sandbox.netsuite.suiteql import SuiteQLError

if TYPE_CHECKING:
    from pssync.sandbox.netsuite.emulator import NetSuiteEmulator

Handler = Callable[[Request], Awaitable[Response]]
RECORD_ROOT = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"
SINGULAR = "application/vnd.oracle.resource+json; type=singular"
MAX_PAGE = 1000
_DATE_FIELDS = ("lastModifiedDate", "dateCreated", "createdDate")


def _json(payload: Any, media_type: str, status: int = 200) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type=media_type)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise NetSuiteError(
            400,
            f"Invalid value for the query parameter {name}: must be between {low} and {high}.",
            code="INVALID_PARAMETER",
            query_param=name,
        )
    return int(raw)


def paged(
    base: str, path: str, items: list[Any], total: int, limit: int, offset: int
) -> dict[str, Any]:
    """NetSuite's collection envelope: links, count, hasMore, items, offset, totalResults."""

    def link(rel: str, at: int) -> dict[str, str]:
        return {"rel": rel, "href": f"{base}{path}?limit={limit}&offset={at}"}

    last = max(0, (total - 1) // limit * limit)
    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    has_more = offset + len(items) < total
    if has_more:
        links.append(link("next", offset + limit))
    links.append(link("last", last))
    return {
        "links": links,
        "count": len(items),
        "hasMore": has_more,
        "items": items,
        "offset": offset,
        "totalResults": total,
    }


def render(base: str, type_name: str, record: Record) -> dict[str, Any]:
    href = f"{base}{RECORD_ROOT}/{type_name}/{record['id']}"
    out: dict[str, Any] = {"links": [{"rel": "self", "href": href}]}
    for key, value in record.items():
        if key in _DATE_FIELDS and isinstance(value, str):
            value = value[:19] + "Z"  # stored with microseconds; NetSuite shows seconds
        out[key] = value
    return out


class NetSuiteApi:
    """Builds the Starlette app for one NetSuiteEmulator."""

    def __init__(self, emulator: NetSuiteEmulator) -> None:
        self.emulator = emulator
        self.in_flight = 0
        self.soap = SoapService(emulator)

    def app(self) -> Starlette:
        guard = self._guard
        routes = [
            Route(f"{RECORD_ROOT}/{{type}}", guard(self.list_records), methods=["GET"]),
            Route(f"{RECORD_ROOT}/{{type}}", guard(self.create), methods=["POST"]),
            Route(f"{RECORD_ROOT}/{{type}}/{{key}}", guard(self.get), methods=["GET"]),
            Route(f"{RECORD_ROOT}/{{type}}/{{key}}", guard(self.patch), methods=["PATCH"]),
            Route(f"{RECORD_ROOT}/{{type}}/{{key}}", guard(self.upsert), methods=["PUT"]),
            Route(f"{RECORD_ROOT}/{{type}}/{{key}}", guard(self.delete), methods=["DELETE"]),
            Route(SUITEQL_PATH, guard(self.suiteql), methods=["POST"]),
            Route(SOAP_PATH, self._guard(self.soap.handle, rest_auth=False), methods=["POST"]),
            Route(TOKEN_PATH, self.token, methods=["POST"]),
        ]
        return Starlette(routes=routes)

    # -- gate ------------------------------------------------------------------------------

    def _guard(self, handler: Handler, *, rest_auth: bool = True) -> Handler:
        async def guarded(request: Request) -> Response:
            emulator = self.emulator
            if self.in_flight >= emulator.concurrency_limit:
                return NetSuiteError(
                    429, "Concurrent request limit exceeded. Request blocked."
                ).response()
            self.in_flight += 1
            try:
                if emulator.processing_ms:
                    await asyncio.sleep(emulator.processing_ms / 1000)
                if rest_auth:  # SOAP authenticates in its envelope (tokenPassport)
                    await self._authenticate(request)
                return await handler(request)
            except NetSuiteError as exc:
                return exc.response()
            finally:
                self.in_flight -= 1

        return guarded

    async def _authenticate(self, request: Request) -> None:
        emulator = self.emulator
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            if emulator.oauth2.check(header[7:].strip()):
                return
            challenge = (
                f'Bearer realm="{emulator.account}", error="invalid_token", '
                'error_description="Invalid login attempt."'
            )
            raise NetSuiteError(401, INVALID_LOGIN_DETAIL, headers={"WWW-Authenticate": challenge})
        signed = SignedRequest(
            method=request.method,
            scheme=request.url.scheme,
            host=request.headers.get("host", ""),
            raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            authorization=header,
            body=await request.body(),
            content_type=request.headers.get("content-type", ""),
        )
        try:
            emulator.verifier.verify(signed)
        except TbaRejectedError:
            challenge = (
                f'OAuth realm="{emulator.account}", error="token_rejected", '
                'error_description="Invalid login attempt."'
            )
            raise NetSuiteError(
                401, INVALID_LOGIN_DETAIL, headers={"WWW-Authenticate": challenge}
            ) from None

    async def token(self, request: Request) -> Response:
        """OAuth 2.0 client credentials grant (RFC 6749 errors, not NetSuite's body)."""
        # Parsed by hand: Starlette's form parser needs python-multipart, not a dependency.
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        try:
            payload = self.emulator.oauth2.issue(form)
        except OAuth2Error as exc:
            error = {"error": exc.error, "error_description": exc.description}
            return _json(error, "application/json", exc.status)
        return _json(payload, "application/json")

    # -- record API ------------------------------------------------------------------------

    @staticmethod
    def _base(request: Request) -> str:
        return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"

    @staticmethod
    async def _body(request: Request) -> Record:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise NetSuiteError(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise NetSuiteError(400, "The request body must be a JSON object.")
        return body

    async def list_records(self, request: Request) -> Response:
        spec = self.emulator.records.spec(request.path_params["type"])
        limit = _int_param(request, "limit", MAX_PAGE, 1, MAX_PAGE)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        records = self.emulator.table.values(spec.name)
        base = self._base(request)
        items = [
            {
                "links": [{"rel": "self", "href": f"{base}{RECORD_ROOT}/{spec.name}/{r['id']}"}],
                "id": r["id"],
            }
            for r in records[offset : offset + limit]
        ]
        path = f"{RECORD_ROOT}/{spec.name}"
        return _json(paged(base, path, items, len(records), limit, offset), COLLECTION)

    async def get(self, request: Request) -> Response:
        spec = self.emulator.records.spec(request.path_params["type"])
        record = self.emulator.records.get(spec.name, request.path_params["key"])
        return _json(render(self._base(request), spec.name, record), SINGULAR)

    def _written(self, request: Request, type_name: str, record_id: str) -> Response:
        location = f"{self._base(request)}{RECORD_ROOT}/{type_name}/{record_id}"
        return Response(status_code=204, headers={"Location": location})

    async def create(self, request: Request) -> Response:
        spec = self.emulator.records.spec(request.path_params["type"])
        record_id = self.emulator.records.create(spec, await self._body(request))
        return self._written(request, spec.name, record_id)

    async def patch(self, request: Request) -> Response:
        spec = self.emulator.records.spec(request.path_params["type"])
        body = await self._body(request)
        record_id = self.emulator.records.update(spec, request.path_params["key"], body)
        return self._written(request, spec.name, record_id)

    async def upsert(self, request: Request) -> Response:
        spec = self.emulator.records.spec(request.path_params["type"])
        key: str = request.path_params["key"]
        if not key.startswith(EID_PREFIX) or len(key) == len(EID_PREFIX):
            raise NetSuiteError(405, "PUT is only supported as an upsert by external ID (eid:...).")
        body = await self._body(request)
        record_id, _ = self.emulator.records.upsert(spec, key[len(EID_PREFIX) :], body)
        return self._written(request, spec.name, record_id)

    async def delete(self, request: Request) -> Response:
        spec = self.emulator.records.spec(request.path_params["type"])
        self.emulator.records.delete(spec, request.path_params["key"])
        return Response(status_code=204)

    # -- SuiteQL ---------------------------------------------------------------------------

    async def suiteql(self, request: Request) -> Response:
        if "transient" not in request.headers.get("prefer", "").lower():
            raise NetSuiteError(
                400, "SuiteQL requests require the header 'Prefer: transient'.", header="Prefer"
            )
        limit = _int_param(request, "limit", MAX_PAGE, 1, MAX_PAGE)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        query_text = (await self._body(request)).get("q")
        if not isinstance(query_text, str) or not query_text.strip():
            raise NetSuiteError(400, "The request body must contain the query in 'q'.", path="q")
        try:
            query, rows = self.emulator.engine.execute(query_text, self.emulator.time_zone)
        except SuiteQLError as exc:
            raise NetSuiteError(400, str(exc), code="INVALID_PARAMETER", path="q") from None
        emulator = self.emulator
        items = [
            project(query, row, emulator.date_format, emulator.time_format, emulator.time_zone)
            for row in rows[offset : offset + limit]
        ]
        body = paged(self._base(request), SUITEQL_PATH, items, len(rows), limit, offset)
        return _json(body, COLLECTION)
