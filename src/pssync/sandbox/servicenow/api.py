"""The ServiceNow Table API over HTTP: `/api/now/table/{table}[/{sys_id}]` with basic auth.

GET lists honour `sysparm_query`, `sysparm_limit` (default 10000), `sysparm_offset` and
`sysparm_fields`, answer `{"result": [...]}` and, as the platform does, report the total in
`X-Total-Count` with first/prev/next/last page URLs in `Link`. POST answers 201, PATCH and PUT
200, DELETE 204. Errors use the platform's `{"error": {"message", "detail"}, "status":
"failure"}` shape. Reference fields come back as ``{link, value}`` objects and every read and
write honours `sysparm_display_value` (false/true/all), `sysparm_exclude_reference_link` and,
on writes, `sysparm_input_display_value` (see `render`; ServiceNow docs, "Table API").
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pssync.sandbox.servicenow.query import parse, sort_key
from pssync.sandbox.servicenow.render import DISPLAY_FIELD, Renderer
from pssync.sandbox.servicenow.tables import TABLES, Record

if TYPE_CHECKING:
    from pssync.sandbox.servicenow.emulator import ServiceNowEmulator

Handler = Callable[[Request], Awaitable[Response]]
ROOT = "/api/now/table"
DEFAULT_LIMIT = 10_000


class ServiceNowError(Exception):
    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail

    def response(self) -> Response:
        body = {"error": {"message": self.message, "detail": self.detail}, "status": "failure"}
        headers = {"WWW-Authenticate": 'Basic realm="Service-now"'} if self.status == 401 else {}
        return Response(json.dumps(body), self.status, headers, "application/json")


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps({"result": payload}), status, headers, "application/json")


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() else default


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def _field_list(request: Request) -> list[str] | None:
    return [f for f in request.query_params.get("sysparm_fields", "").split(",") if f] or None


class ServiceNowApi:
    """Builds the Starlette app for one ServiceNowEmulator."""

    def __init__(self, emulator: ServiceNowEmulator) -> None:
        self.emulator = emulator

    def app(self) -> Starlette:
        guard, member = self._guard, f"{ROOT}/{{table}}/{{sys_id}}"
        return Starlette(
            routes=[
                Route(f"{ROOT}/{{table}}", guard(self.list), methods=["GET"]),
                Route(f"{ROOT}/{{table}}", guard(self.create), methods=["POST"]),
                Route(member, guard(self.get), methods=["GET"]),
                Route(member, guard(self.update), methods=["PATCH", "PUT"]),
                Route(member, guard(self.delete), methods=["DELETE"]),
            ]
        )

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            try:
                self._authenticate(request.headers.get("authorization", ""))
                if request.path_params["table"] not in TABLES:
                    raise ServiceNowError(400, f"Invalid table {request.path_params['table']}")
                return await handler(request)
            except ServiceNowError as exc:
                return exc.response()

        return guarded

    def _authenticate(self, header: str) -> None:
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        expected = (self.emulator.username, self.emulator.password)
        ok = scheme.lower() == "basic" and hmac.compare_digest(
            f"{user}:{password}".encode(), ":".join(expected).encode()
        )
        if not ok:
            raise ServiceNowError(
                401, "User Not Authenticated", "Required to provide Auth information"
            )

    def _fields(self, table: str) -> set[str]:
        def build() -> set[str]:
            names = set(TABLES[table][1]) | {"sys_id", "number", "sys_created_on"}
            for record in self.emulator.table.values(table):
                names.update(record)
            return names

        return self.emulator.table.memo(("sn-fields", table), build)

    def _matching(self, table: str, sysparm_query: str) -> list[Record]:
        def build() -> list[Record]:
            query = parse(sysparm_query, self._fields(table))
            rows = [r for r in self.emulator.table.values(table) if query.test(r)]
            for field, descending in reversed(query.order):  # stable sorts, last key first

                def key(row: Record, field: str = field) -> tuple[int, Any]:
                    return sort_key(row.get(field))

                rows.sort(key=key, reverse=descending)
            return rows

        return self.emulator.table.memo(("sn-query", table, sysparm_query), build)

    async def list(self, request: Request) -> Response:
        table = request.path_params["table"]
        params = request.query_params
        rows = self._matching(table, params.get("sysparm_query", ""))
        limit = max(1, _int_param(request, "sysparm_limit", DEFAULT_LIMIT))
        offset = _int_param(request, "sysparm_offset", 0)
        render = self._renderer(request)
        page = [
            render.record(table, r, _field_list(request)) for r in rows[offset : offset + limit]
        ]
        headers = {"X-Total-Count": str(len(rows)), "Link": self._links(request, len(rows))}
        return _json(page, headers=headers)

    def _links(self, request: Request, total: int) -> str:
        limit = max(1, _int_param(request, "sysparm_limit", DEFAULT_LIMIT))
        offset = _int_param(request, "sysparm_offset", 0)
        base = str(request.url.replace(query=""))
        others = {k: v for k, v in request.query_params.items() if k != "sysparm_offset"}

        def url(at: int) -> str:
            return f"{base}?{urlencode({**others, 'sysparm_limit': limit, 'sysparm_offset': at})}"

        links = [f'<{url(0)}>;rel="first"']
        if offset > 0:
            links.append(f'<{url(max(0, offset - limit))}>;rel="prev"')
        if offset + limit < total:
            links.append(f'<{url(offset + limit)}>;rel="next"')
        links.append(f'<{url(max(0, (total - 1) // limit * limit))}>;rel="last"')
        return ",".join(links)

    def _record(self, request: Request) -> Record:
        record = self.emulator.table.get(
            request.path_params["table"], request.path_params["sys_id"]
        )
        if record is None:
            raise ServiceNowError(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        return record

    @staticmethod
    async def _body(request: Request) -> Record:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ServiceNowError(400, "Exception while reading request", "Invalid JSON") from None
        if not isinstance(body, dict):
            raise ServiceNowError(400, "Exception while reading request", "Expected an object")
        return body

    def _renderer(self, request: Request) -> Renderer:
        return Renderer(
            self.emulator.table.get,
            str(request.base_url),
            request.query_params.get("sysparm_display_value", "false"),
            _flag(request, "sysparm_exclude_reference_link"),
        )

    def _find_display(self, table: str, shown: str) -> str | None:
        """The sys_id of the `table` record whose display field reads `shown`."""
        field = DISPLAY_FIELD.get(table, "name")
        for record in self.emulator.table.values(table):
            if record.get(field) == shown:
                return str(record["sys_id"])
        return None

    async def _input(self, request: Request, table: str) -> Record:
        body = await self._body(request)
        if _flag(request, "sysparm_input_display_value"):
            body = self._renderer(request).resolve(table, body, self._find_display)
        return body

    async def get(self, request: Request) -> Response:
        table = request.path_params["table"]
        record = self._record(request)
        return _json(self._renderer(request).record(table, record, _field_list(request)))

    async def create(self, request: Request) -> Response:
        table = request.path_params["table"]
        record = self.emulator.service.create(table, await self._input(request, table))
        location = f"{request.url.replace(query='')}/{record['sys_id']}"
        shown = self._renderer(request).record(table, record, _field_list(request))
        return _json(shown, 201, {"Location": location})

    async def update(self, request: Request) -> Response:
        """PATCH and PUT alike: the Table API keeps fields the body leaves out."""
        current = self._record(request)
        table = request.path_params["table"]
        body = await self._input(request, table)
        record = self.emulator.service.update(table, current, body)
        return _json(self._renderer(request).record(table, record, _field_list(request)))

    async def delete(self, request: Request) -> Response:
        self._record(request)
        self.emulator.table.delete(request.path_params["table"], request.path_params["sys_id"])
        return Response(status_code=204)
