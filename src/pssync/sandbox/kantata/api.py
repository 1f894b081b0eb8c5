"""The Kantata OX API v1 HTTP surface: bearer auth, list envelope, CRUD on `.json` routes.

Every GET answers Kantata's documented response format: `count` (all matches), `results`
(`{"key", "id"}` in order, the canonical answer), the objects indexed by ID under their plural
key, and `meta` with `count`, `page_count`, `page_number`, `page_size`. Lists page with `page`
and `per_page` (default 20, at most 200) and filter with `only`, `updated_after` and the
per-type filters in `objects.SPECS`. ``include=a,b`` side-loads associations under their own
top-level keys (Kantata's "Response Format": "the returned JSON contains top-level keys ...
where you can find associated data by inspecting [the] ... _id field"), and every object that
can be synced shows its ``external_reference_ids`` (``include=external_references`` loads them),
and every custom-field subject its ``custom_field_value_ids`` (``include=custom_field_values``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pssync.sandbox.kantata.errors import KantataError
from pssync.sandbox.kantata.objects import CUSTOM_FIELD_SUBJECTS, ObjectSpec, Record

if TYPE_CHECKING:
    from pssync.sandbox.kantata.emulator import KantataEmulator
    from pssync.sandbox.kantata.service import KantataService

Handler = Callable[[Request], Awaitable[Response]]
ROOT = "/api/v1"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200


def envelope(
    spec: ObjectSpec,
    records: list[Record],
    total: int,
    page: int,
    size: int,
    service: KantataService | None = None,
    include: str | None = None,
) -> Any:
    shown = [show(spec, r, service) for r in records]
    body: dict[str, Any] = {
        "count": total,
        "results": [{"key": spec.key, "id": r["id"]} for r in records],
        spec.key: {r["id"]: r for r in shown},
    }
    if include and service is not None:
        for key, objects in side_loaded(spec, shown, service, include).items():
            body.setdefault(key, {}).update(objects)
    return body | {
        "meta": {
            "count": total,
            "page_count": max(1, math.ceil(total / size)),
            "page_number": page,
            "page_size": size,
        },
    }


def show(spec: ObjectSpec, record: Record, service: KantataService | None) -> Record:
    out = render(record)
    if service is not None and spec.subject_type:
        out["external_reference_ids"] = service.reference_ids(spec, record["id"])
    if service is not None and spec.subject_type in CUSTOM_FIELD_SUBJECTS:
        out["custom_field_value_ids"] = service.custom_field_value_ids(spec, record["id"])
    if service is not None and spec.key == "workspace_resources" and out.get("role_id"):
        # Kantata shows the resource's role by name (`role_name`, Workspace Resources reference)
        role = service.table.get("roles", str(out["role_id"]))
        out.setdefault("role_name", role.get("name") if role else None)
    return out


def side_loaded(
    spec: ObjectSpec, records: list[Record], service: KantataService, include: str
) -> dict[str, dict[str, Record]]:
    """The associations named in `include`, by top-level key and ID."""
    out: dict[str, dict[str, Record]] = {}
    for name in filter(None, (n.strip() for n in include.split(","))):
        if name == "external_references" and spec.subject_type:
            field, target = "external_reference_ids", "external_references"
        elif name == "custom_field_values" and spec.subject_type in CUSTOM_FIELD_SUBJECTS:
            field, target = "custom_field_value_ids", "custom_field_values"
        elif name in spec.includes:
            field, target = spec.includes[name]
        else:
            known = ", ".join([*spec.includes, "external_references"])
            raise KantataError(400, f"{name!r} is not a valid include for {spec.key}: {known}")
        target_spec = service.spec(target)
        for record in records:
            value = record.get(field)
            for ref in value if isinstance(value, list) else [value]:
                found = None if ref in (None, "") else service.table.get(target, str(ref))
                if found is not None:
                    out.setdefault(target, {})[found["id"]] = show(target_spec, found, service)
    return out


def render(record: Record) -> Record:
    out = dict(record)
    for name in ("created_at", "updated_at"):
        if isinstance(out.get(name), str):
            out[name] = out[name][:19] + "+00:00"  # stored with microseconds, shown to seconds
    return out


def _positive(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise KantataError(400, f"{name} must be a positive integer")
    return int(raw)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type="application/json")


class KantataApi:
    """Builds the Starlette app for one KantataEmulator."""

    def __init__(self, emulator: KantataEmulator) -> None:
        self.emulator = emulator

    def app(self) -> Starlette:
        guard = self._guard
        collection, member = f"{ROOT}/{{key}}.json", f"{ROOT}/{{key}}/{{id}}.json"
        return Starlette(
            routes=[
                Route(
                    f"{ROOT}/external_references/create_or_update.json",
                    guard(self.create_or_update_reference),
                    methods=["POST"],
                ),
                Route(collection, guard(self.list), methods=["GET"]),
                Route(collection, guard(self.create), methods=["POST"]),
                Route(member, guard(self.get), methods=["GET"]),
                Route(member, guard(self.update), methods=["PUT"]),
                Route(member, guard(self.delete), methods=["DELETE"]),
            ]
        )

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            try:
                if scheme.lower() != "bearer" or token.strip() not in self.emulator.tokens:
                    raise KantataError(401, "Invalid OAuth 2 Request")
                return await handler(request)
            except KantataError as exc:
                return exc.response()

        return guarded

    async def _body(self, request: Request, spec: ObjectSpec) -> list[Record]:
        """The object(s) in `{"<singular>": {...}}` or, for bulk create, `{"<plural>": [...]}`."""
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise KantataError(400, "The request body is not valid JSON") from None
        if isinstance(body, dict) and isinstance(body.get(spec.singular), dict):
            return [body[spec.singular]]
        if isinstance(body, dict) and isinstance(body.get(spec.key), list):
            items = body[spec.key]
            if 0 < len(items) <= MAX_PAGE_SIZE and all(isinstance(i, dict) for i in items):
                return list(items)
        raise KantataError(400, f'Expected a body like {{"{spec.singular}": {{...}}}}')

    async def list(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        page = _positive(request, "page", 1)
        size = min(_positive(request, "per_page", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        rows = self.emulator.service.query(spec, request.query_params)
        start = (page - 1) * size
        return self._answer(spec, rows[start : start + size], request, len(rows), page, size)

    def _answer(
        self,
        spec: ObjectSpec,
        records: Sequence[Record],
        request: Request,
        total: int | None = None,
        page: int = 1,
        size: int | None = None,
    ) -> Response:
        include = request.query_params.get("include")
        count = len(records) if total is None else total
        per_page = size or max(len(records), 1)
        service = self.emulator.service
        return _json(envelope(spec, list(records), count, page, per_page, service, include))

    async def get(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        record = self.emulator.service.get(spec, request.path_params["id"])
        return self._answer(spec, [record], request, size=DEFAULT_PAGE_SIZE)

    async def create(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        created = [
            self.emulator.service.create(spec, item) for item in await self._body(request, spec)
        ]
        return self._answer(spec, created, request)

    async def create_or_update_reference(self, request: Request) -> Response:
        """``POST /external_references/create_or_update`` (see `references`)."""
        service = self.emulator.service
        spec = service.spec("external_references")
        body = await self._body(request, spec)
        if len(body) != 1:
            raise KantataError(400, 'Expected a body like {"external_reference": {...}}')
        return self._answer(spec, [service.create_or_update_reference(body[0])], request)

    async def update(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        body = await self._body(request, spec)
        if len(body) != 1:
            raise KantataError(400, f'Expected a body like {{"{spec.singular}": {{...}}}}')
        record = self.emulator.service.update(spec, request.path_params["id"], body[0])
        return self._answer(spec, [record], request, size=DEFAULT_PAGE_SIZE)

    async def delete(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        self.emulator.service.delete(spec, request.path_params["id"])
        return Response(status_code=204)
