"""One OData operation on an entity set, whether it came alone or inside a ``$batch``.

Reads, creates (with deep insert), updates (MERGE/PATCH/PUT, guarded by ``If-Match`` where the
entity has an ETag) and deletes, answered in SAP Gateway's JSON shapes. The HTTP face (`app`)
and the batch processor (`batch`) both hand their requests here, so an operation behaves the same
in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pssync.sandbox.sap_s4 import render
from pssync.sandbox.sap_s4.errors import ODataError
from pssync.sandbox.sap_s4.etags import check_if_match, etag_of
from pssync.sandbox.sap_s4.filter import FilterError, literal, tokenize
from pssync.sandbox.sap_s4.query import ReadOptions, run_query, select_fields
from pssync.sandbox.sap_s4.records import Repository
from pssync.sandbox.sap_s4.roots import is_root, refuse_root_change
from pssync.sandbox.sap_s4.schema import EntitySet, Service

JSON = "application/json;charset=utf-8"
WRITE_METHODS = {"POST", "PUT", "PATCH", "MERGE", "DELETE"}
_RESOURCE = re.compile(
    r"^(?P<set>[A-Za-z_]\w*)(?:\((?P<key>[^)]*)\))?(?:/(?P<nav>to_\w+))?(?P<count>/\$count)?$"
)


@dataclass(frozen=True)
class Call:
    """A request inside the service: method, path below the service root, query, headers
    (lower-case names) and body."""

    method: str
    rest: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass
class Answer:
    status: int
    body: bytes = b""
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Operations:
    """Entity-set operations over one repository."""

    def __init__(self, repo: Repository, page_size: int) -> None:
        self.repo = repo
        self.page_size = page_size

    def run(self, call: Call, service: Service, url: str) -> Answer:
        match = _RESOURCE.match(call.rest)
        entity_set = service.entity_set(match.group("set")) if match else None
        if match is None or entity_set is None:
            raise ODataError(
                404, f"Resource not found for segment '{call.rest}'", service=service.name
            )
        key_text, count, method = match.group("key"), match.group("count"), call.method
        if key_text is None and method in ("GET", "HEAD"):
            return self._read_set(call, service, entity_set, url, bool(count))
        if key_text is None and method == "POST":
            record = self.repo.create(entity_set, _body(call.body))
            body = {"d": render.entity(service, entity_set, record, url)}
            headers = {"location": body["d"]["__metadata"]["uri"]}
            return _json(body, 201, _with_etag(headers, entity_set, record))
        if key_text is None or count:
            raise ODataError(405, f"Method {method} not allowed here")
        key = parse_key(entity_set, key_text)
        found = self.repo.get(entity_set, key)
        if found is None:
            raise ODataError(404, f"Resource not found for segment '{entity_set.type_name}'")
        if match.group("nav"):
            return self._navigate(call, service, entity_set, found, match.group("nav"), url)
        if method in ("GET", "HEAD"):
            select = select_fields(entity_set, call.params.get("$select"))
            expanded = self._expand(entity_set, found, call.params.get("$expand"))
            out = render.entity(service, entity_set, expanded, url, select)
            return _json({"d": out}, 200, _with_etag({}, entity_set, found))
        if method not in ("PUT", "PATCH", "MERGE", "DELETE"):
            raise ODataError(405, f"Method {method} not allowed here")
        if entity_set.name == "A_EnterpriseProjectElement" and is_root(found):
            raise refuse_root_change()
        check_if_match(entity_set, found, call.headers.get("if-match"))
        if method == "DELETE":
            self.repo.delete(entity_set, key)
            return Answer(204)
        updated = self.repo.apply_update(
            entity_set, found, _body(call.body), replace=method == "PUT"
        )
        return Answer(204, headers=_with_etag({}, entity_set, updated))

    def _navigate(
        self,
        call: Call,
        service: Service,
        entity_set: EntitySet,
        parent: dict[str, Any],
        nav_name: str,
        url: str,
    ) -> Answer:
        """``Set(key)/to_X``: read the related entities, or create one under the parent."""
        nav = entity_set.nav(nav_name)
        target = service.entity_set(nav.target) if nav is not None else None
        if nav is None or target is None:
            raise ODataError(404, f"Resource not found for segment '{nav_name}'")
        if call.method == "POST":
            record = self.repo.create_related(entity_set, parent, nav_name, _body(call.body))
            body = {"d": render.entity(service, target, record, url)}
            headers = {"location": body["d"]["__metadata"]["uri"]}
            return _json(body, 201, _with_etag(headers, target, record))
        if call.method not in ("GET", "HEAD"):
            raise ODataError(405, f"Method {call.method} not allowed here")
        related = [
            render.entity(service, target, r, url)
            for r in self.repo.related(entity_set, parent, nav_name)
        ]
        if nav.many:
            return _json({"d": {"results": related}})
        if not related:
            raise ODataError(404, f"Resource not found for segment '{nav_name}'")
        return _json({"d": related[0]})

    def _read_set(
        self, call: Call, service: Service, entity_set: EntitySet, url: str, count: bool
    ) -> Answer:
        params = call.params
        opts = ReadOptions.parse(params)
        if count:
            opts = ReadOptions(filter=opts.filter)
            size = len(run_query(entity_set, self.repo.all(entity_set), opts, 10**9).rows)
            return Answer(200, str(size).encode(), "text/plain")
        if not wants_json(params, call.headers):
            raise ODataError(
                406, "Only JSON is served: send $format=json or Accept: application/json"
            )
        select = select_fields(entity_set, opts.select)
        page = run_query(entity_set, self.repo.all(entity_set), opts, self.page_size)
        data: dict[str, Any] = {}
        if page.count is not None:
            data["__count"] = str(page.count)
        expand = params.get("$expand")
        data["results"] = [
            render.entity(service, entity_set, self._expand(entity_set, r, expand), url, select)
            for r in page.rows
        ]
        if page.next_skiptoken is not None:
            query = {k: v for k, v in params.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(page.next_skiptoken)
            data["__next"] = f"{url}{entity_set.name}?{urlencode(query)}"
        return _json({"d": data})

    def _expand(self, entity_set: EntitySet, record: dict[str, Any], expand: str | None) -> Any:
        """`record` with the navigation properties named in ``$expand`` inlined (one level)."""
        if not expand:
            return record
        out = dict(record)
        for name in (n.strip() for n in expand.split(",") if n.strip()):
            nav = entity_set.nav(name)
            related = self.repo.related(entity_set, record, name)
            out[name] = related if nav is not None and nav.many else next(iter(related), None)
        return out


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


def wants_json(params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    fmt = params.get("$format")
    if fmt is not None:
        return fmt.lower() == "json"
    return "application/json" in headers.get("accept", "")


def _with_etag(
    headers: dict[str, str], entity_set: EntitySet, record: dict[str, Any]
) -> dict[str, str]:
    etag = etag_of(entity_set, record)
    return {**headers, "etag": etag} if etag else headers


def _body(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ODataError(400, "The request body is not valid JSON") from exc
    if isinstance(payload, dict) and isinstance(payload.get("d"), dict):
        payload = payload["d"]
    if not isinstance(payload, dict):
        raise ODataError(400, "The request body must be a JSON object")
    return payload


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(payload).encode(), JSON, headers or {})
