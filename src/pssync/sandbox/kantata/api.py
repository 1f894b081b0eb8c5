"""The Kantata OX API v1 HTTP surface: bearer auth, list envelope, CRUD on `.json` routes.

Every GET answers Kantata's documented response format: `count` (all matches), `results`
(`{"key", "id"}` in order, the canonical answer), the objects indexed by ID under their plural
key, and `meta` with `count`, `page_count`, `page_number`, `page_size`. Lists page with `page`
and `per_page` (default 20, at most 200) and filter with `only`, `updated_after` and the
per-type filters in `objects.SPECS`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pssync.sandbox.kantata.errors import KantataError
from pssync.sandbox.kantata.objects import ObjectSpec, Record

if TYPE_CHECKING:
    from pssync.sandbox.kantata.emulator import KantataEmulator

Handler = Callable[[Request], Awaitable[Response]]
ROOT = "/api/v1"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200


def envelope(spec: ObjectSpec, records: list[Record], total: int, page: int, size: int) -> Any:
    return {
        "count": total,
        "results": [{"key": spec.key, "id": r["id"]} for r in records],
        spec.key: {r["id"]: render(r) for r in records},
        "meta": {
            "count": total,
            "page_count": max(1, math.ceil(total / size)),
            "page_number": page,
            "page_size": size,
        },
    }


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
        return _json(envelope(spec, rows[start : start + size], len(rows), page, size))

    async def get(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        record = self.emulator.service.get(spec, request.path_params["id"])
        return _json(envelope(spec, [record], 1, 1, DEFAULT_PAGE_SIZE))

    async def create(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        created = [
            self.emulator.service.create(spec, item) for item in await self._body(request, spec)
        ]
        return _json(envelope(spec, created, len(created), 1, max(len(created), 1)))

    async def update(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        body = await self._body(request, spec)
        if len(body) != 1:
            raise KantataError(400, f'Expected a body like {{"{spec.singular}": {{...}}}}')
        record = self.emulator.service.update(spec, request.path_params["id"], body[0])
        return _json(envelope(spec, [record], 1, 1, DEFAULT_PAGE_SIZE))

    async def delete(self, request: Request) -> Response:
        spec = self.emulator.service.spec(request.path_params["key"])
        self.emulator.service.delete(spec, request.path_params["id"])
        return Response(status_code=204)
