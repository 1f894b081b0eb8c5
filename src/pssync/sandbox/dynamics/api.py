"""The Dataverse Web API over HTTP: OAuth 2.0 client credentials, entity sets, rows, metadata.

- ``POST /{tenant}/oauth2/v2.0/token`` issues bearer tokens for the client credentials grant
  (``grant_type=client_credentials``, ``client_id``, ``client_secret``,
  ``scope=<environment URL>/.default``), answering as Microsoft Entra ID does
  (``token_type``, ``expires_in``, ``access_token``; ``invalid_client`` with 401 for a wrong
  secret) ("Microsoft identity platform and the OAuth 2.0 client credentials flow",
  https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow; "Use
  OAuth authentication with Microsoft Dataverse",
  https://learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth).
- ``/api/data/v9.2/<set>`` lists (GET, with the options in `odata`) and creates (POST: 204 and
  ``OData-EntityId``, or 201 and the row with ``Prefer: return=representation``);
  ``/api/data/v9.2/<set>(<key>)`` reads, upserts (PATCH, see `service`) and deletes a row.
  Every row carries ``@odata.etag`` (``W/"<versionnumber>"``) and every answer
  ``OData-Version: 4.0`` ("Retrieve a table row using the Web API", "Update and delete table
  rows using the Web API", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/).
- A collection GET with ``Prefer: odata.track-changes`` or a ``$deltatoken`` is change
  tracking (see `changes`).
- ``EntityDefinitions(LogicalName='<name>')/Attributes`` describes a table's columns ("Query
  table definitions using the Web API", https://learn.microsoft.com/power-apps/developer/
  data-platform/webapi/query-metadata-web-api).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pssync.sandbox.dynamics import changes, odata
from pssync.sandbox.dynamics.entities import BY_LOGICAL, EDM, STATE_LABELS, Record, Table
from pssync.sandbox.dynamics.errors import NO_SEGMENT, ODATA_HEADERS, PAYLOAD, DataverseError

if TYPE_CHECKING:
    from pssync.sandbox.dynamics.emulator import DynamicsEmulator
    from pssync.sandbox.dynamics.service import DataverseService

ROOT = "/api/data/{version}"
VERSIONS = ("v9.0", "v9.1", "v9.2")  # the Web API versions an environment answers
ANNOTATIONS = "odata.include-annotations"
FORMATTED = "OData.Community.Display.V1.FormattedValue"
SEGMENT = re.compile(r"^(\w+)(?:\((.*)\))?$")
KEY = re.compile(r"^(\w+)=(.+)$")
Handler = Callable[[Request], Awaitable[Response]]
TOKEN_SECONDS = 3599


def parse_key(table: Table, text: str) -> tuple[str, str]:
    """(column, value) of ``<guid>`` or ``<alternate key>='<value>'`` inside a segment."""
    match = KEY.match(text)
    if match is None:
        return table.id_field, text.strip("'").lower()
    column, value = match.group(1), match.group(2)
    if column != table.alternate_key and column != table.id_field:
        raise DataverseError(
            400, "0x80060892", f"The key attribute '{column}' is not a key of {table.logical}."
        )
    if not (value.startswith("'") and value.endswith("'")):
        return column, value
    return column, value[1:-1].replace("''", "'")


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json; odata.metadata=minimal",
        headers={**ODATA_HEADERS, **(headers or {})},
    )


def _ieee754(header: str | None) -> bool:
    return "ieee754compatible=true" in (header or "").replace(" ", "").lower()


class DataverseApi:
    """Builds the Starlette app of one DynamicsEmulator."""

    def __init__(self, emulator: DynamicsEmulator) -> None:
        self.emulator = emulator

    @property
    def service(self) -> DataverseService:
        return self.emulator.service

    def app(self) -> Starlette:
        guard = self._guard
        return Starlette(
            routes=[
                Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
                Route(ROOT + "/{segment:path}", guard(self.get), methods=["GET"]),
                Route(ROOT + "/{segment:path}", guard(self.post), methods=["POST"]),
                Route(ROOT + "/{segment:path}", guard(self.patch), methods=["PATCH"]),
                Route(ROOT + "/{segment:path}", guard(self.delete), methods=["DELETE"]),
            ]
        )

    # ---- auth ---------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        form = await request.form()
        emulator = self.emulator
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, basic = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":  # client_secret_basic (RFC 6749, section 2.3.1)
            pair = base64.b64decode(basic).decode()
            client_id, client_secret = (urllib.parse.unquote(p) for p in pair.split(":", 1))
        if form.get("grant_type") != "client_credentials":
            return _json(
                {"error": "unsupported_grant_type", "error_description": "AADSTS70003"}, 400
            )
        if client_id != emulator.client_id or not secrets.compare_digest(
            str(client_secret or ""), emulator.client_secret
        ):
            return _json(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
                401,
            )
        token = secrets.token_urlsafe(32)
        emulator.tokens.add(token)
        return _json(
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "ext_expires_in": TOKEN_SECONDS,
                "access_token": token,
            }
        )

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if request.path_params.get("version") not in VERSIONS:
                return DataverseError(404, NO_SEGMENT, "Resource not found.").response()
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token.strip() not in self.emulator.tokens:
                return Response(
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            try:
                return await handler(request)
            except DataverseError as exc:
                return exc.response()

        return guarded

    # ---- helpers ------------------------------------------------------------------------
    def _address(self, request: Request) -> tuple[Table, tuple[str, str] | None]:
        segment = urllib.parse.unquote(request.path_params["segment"])
        match = SEGMENT.match(segment)
        if match is None:
            raise DataverseError(
                404, NO_SEGMENT, f"Resource not found for the segment '{segment}'."
            )
        table = self.service.table(match.group(1))
        key = None if match.group(2) is None else parse_key(table, match.group(2))
        return table, key

    def _url(self, request: Request, path: str) -> str:
        version = request.path_params["version"]
        return f"{str(request.base_url).rstrip('/')}/api/data/{version}/{path}"

    def show(self, table: Table, row: Record, select: list[str] | None, request: Request) -> Record:
        """A row as the Web API shows it: etag first, the selected columns, the key always;
        decimals as numbers unless the client asked for ``IEEE754Compatible=true``; the labels
        of state and status with ``Prefer: odata.include-annotations`` ("Formatted values",
        https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/select-columns)."""
        ieee754 = _ieee754(request.headers.get("accept"))
        labels = FORMATTED in (request.headers.get("prefer") or "")
        names = [*select, table.id_field] if select else [c.name for c in table.columns]
        if any(table.by_name[n].kind == "Money" for n in names):  # a money value's currency
            names.append("_transactioncurrencyid_value")  # comes with it (Create with data
            # returned: the example selects revenue and gets the currency too)
        out: Record = {"@odata.etag": f'W/"{row.get("versionnumber")}"'}
        for name in dict.fromkeys(names):
            value = row.get(name)
            kind = table.by_name[name].kind
            if value is not None and kind in ("Money", "Decimal") and not ieee754:
                value = float(value)
            if labels and name in STATE_LABELS and value in STATE_LABELS[name]:
                out[f"{name}@{FORMATTED}"] = STATE_LABELS[name][value]
            out[name] = value
        return out

    def _applied(self, request: Request) -> dict[str, str]:
        """``Preference-Applied`` for the preferences honoured."""
        prefer = request.headers.get("prefer") or ""
        applied = [p.strip() for p in prefer.split(",") if p.strip().startswith(ANNOTATIONS)]
        if "odata.maxpagesize" in prefer:
            applied.append(f"odata.maxpagesize={odata.page_size(prefer)}")
        return {"Preference-Applied": ",".join(applied)} if applied else {}

    async def _body(self, request: Request) -> Record:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise DataverseError(400, PAYLOAD, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise DataverseError(400, PAYLOAD, "The request body must be a JSON object.")
        return body

    def _written(self, request: Request, table: Table, row: Record, created: bool) -> Response:
        entity_id = self._url(request, f"{table.set_name}({row[table.id_field]})")
        prefer = request.headers.get("prefer")
        if odata.prefers(prefer, "return=representation"):
            # "the OData-EntityId header ... is not returned" (Create with data returned)
            select = odata.parse_select(table, request.query_params.get("$select"))
            body = self.show(table, row, select, request)
            context = self._url(request, f"$metadata#{table.set_name}/$entity")
            headers = {"Preference-Applied": "return=representation"}
            return _json({"@odata.context": context, **body}, 201 if created else 200, headers)
        return Response(status_code=204, headers={**ODATA_HEADERS, "OData-EntityId": entity_id})

    # ---- handlers -----------------------------------------------------------------------
    async def get(self, request: Request) -> Response:
        segment = urllib.parse.unquote(request.path_params["segment"])
        if segment.startswith("EntityDefinitions("):
            return self.definitions(segment)
        table, key = self._address(request)
        params = request.query_params
        select = odata.parse_select(table, params.get("$select"))
        suffix = f"({','.join(select)})" if select else ""
        if key is not None:
            row = self.service.get(table, key)
            context = self._url(request, f"$metadata#{table.set_name}{suffix}/$entity")
            body = self.show(table, row, select, request)
            return _json({"@odata.context": context, **body}, headers=self._applied(request))
        return self.collection(request, table, select, suffix)

    def collection(
        self, request: Request, table: Table, select: list[str] | None, suffix: str
    ) -> Response:
        params = request.query_params
        if changes.wanted(request):
            tracked, applied = changes.respond(self, request, table, select)
            return _json(tracked, headers=applied)
        if "$skip" in params:
            raise odata.bad("The query parameter $skip is not supported.")
        rows, order = self.service.query(table, params.get("$filter"), params.get("$orderby"))
        top = params.get("$top")
        if top is not None:
            if not top.isdigit():
                raise odata.bad(f"Invalid value '{top}' for $top.")
            rows = rows[: int(top)]
        size = odata.page_size(request.headers.get("prefer"))
        number = 1
        if "$skiptoken" in params:
            number, last = odata.read_skiptoken(params["$skiptoken"])
            rows = [r for r in rows if self._after(order, r, last)]
        page = rows[:size]
        context = self._url(request, f"$metadata#{table.set_name}{suffix}")
        body: Record = {
            "@odata.context": context,
            "value": [self.show(table, r, select, request) for r in page],
        }
        headers = self._applied(request)
        if len(rows) > size and top is None:
            token = odata.skiptoken(number + 1, odata.sort_key(order, page[-1]))
            query = [(k, v) for k, v in params.multi_items() if k != "$skiptoken"]
            query.append(("$skiptoken", token))
            encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
            body["@odata.nextLink"] = self._url(request, f"{table.set_name}?{encoded}")
        return _json(body, headers=headers)

    @staticmethod
    def _after(order: list[tuple[str, bool]], row: Record, last: tuple[str, ...]) -> bool:
        key = odata.sort_key(order, row)
        bound = tuple(
            odata.Desc(v) if desc else v for v, (_, desc) in zip(last, order, strict=True)
        )
        return bool(key > bound)

    async def post(self, request: Request) -> Response:
        table, key = self._address(request)
        if key is not None:
            raise DataverseError(405, "0x80060888", "POST is not supported on a single row.")
        body = await self._body(request)
        row = self.service.create(table, body, _ieee754(request.headers.get("content-type")))
        return self._written(request, table, row, True)

    async def patch(self, request: Request) -> Response:
        table, key = self._address(request)
        if key is None:
            raise DataverseError(405, "0x80060888", "PATCH needs a row: <set>(<key>).")
        body = await self._body(request)
        row, created = self.service.upsert(
            table,
            key,
            body,
            _ieee754(request.headers.get("content-type")),
            request.headers.get("if-match"),
            request.headers.get("if-none-match"),
        )
        return self._written(request, table, row, created)

    async def delete(self, request: Request) -> Response:
        table, key = self._address(request)
        if key is None:
            raise DataverseError(405, "0x80060888", "DELETE needs a row: <set>(<key>).")
        self.service.delete(table, key)
        return Response(status_code=204, headers=ODATA_HEADERS)

    def definitions(self, segment: str) -> Response:
        """``EntityDefinitions(LogicalName='x')/Attributes`` and ``.../Keys``."""
        match = re.fullmatch(r"EntityDefinitions\(LogicalName='(\w+)'\)/(Attributes|Keys)", segment)
        table = BY_LOGICAL.get(match.group(1)) if match else None
        if match is None or table is None:
            raise DataverseError(
                404, NO_SEGMENT, f"Resource not found for the segment '{segment}'."
            )
        if match.group(2) == "Keys":
            keys = [table.alternate_key] if table.alternate_key else []
            return _json({"value": [{"KeyAttributes": keys} for _ in keys[:1]]})
        attributes = [
            {
                "LogicalName": c.name,
                "AttributeType": "DateTime" if c.kind == "DateOnly" else c.kind,
                "AttributeTypeName": {"Value": f"{c.kind}Type"},
                "IsValidForCreate": c.writable and c.name not in ("createdon", "modifiedon"),
                "IsValidForUpdate": c.writable and c.name != table.id_field,
                "IsPrimaryId": c.name == table.id_field,
                "MaxLength": c.max_length,
                "EdmType": EDM[c.kind],
            }
            for c in table.columns
        ]
        return _json({"value": attributes})
