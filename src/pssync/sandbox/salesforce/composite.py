"""The Composite resource: up to 25 subrequests in one call, chained by ``@{ref.path}``.

Subrequests go through the same routes as standalone requests (in-process), each in a nested
transaction; with ``allOrNone`` a failure rolls back every earlier subrequest and the rest are
answered PROCESSING_HALTED, as the REST API documents.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from pssync.sandbox.salesforce.data import Txn
from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.routing import Ctx, Reply, Router

if TYPE_CHECKING:
    from pssync.sandbox.salesforce.api import SalesforceApi

MAX_SUBREQUESTS = 25
HALTED = "The transaction was rolled back since another operation in the same transaction failed."
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_VERSION_PREFIX = re.compile(r"^/services/data/v(\d+\.\d)")


def register(router: Router, api: SalesforceApi) -> None:
    router.add("POST", "/composite", CompositeHandler(api).composite)


def _flag(value: object) -> bool:
    return value is True or str(value).lower() == "true"


class CompositeHandler:
    def __init__(self, api: SalesforceApi) -> None:
        self.api = api

    def composite(self, txn: Txn, ctx: Ctx) -> Reply:
        body = ctx.object_body()
        requests = body.get("compositeRequest")
        if not isinstance(requests, list) or not requests:
            raise SalesforceError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        if len(requests) > MAX_SUBREQUESTS:
            raise SalesforceError(
                400,
                "INVALID_INPUT",
                f"Composite request may contain at most {MAX_SUBREQUESTS} subrequests",
            )
        all_or_none = _flag(body.get("allOrNone", False))
        outer = txn.child()
        done: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        failed = False
        for sub in requests:
            ref = str(sub.get("referenceId", ""))
            if failed and all_or_none:
                responses.append(_halted(ref))
                continue
            step = outer.child()
            try:
                reply = self._subrequest(step, ctx, sub, done)
            except SalesforceError as exc:
                reply = Reply(exc.status, exc.envelope())
            if reply.status < 300:
                step.commit()
                done[ref] = reply.body
            else:
                failed = True
            responses.append(
                {
                    "body": reply.body,
                    "httpHeaders": reply.headers,
                    "httpStatusCode": reply.status,
                    "referenceId": ref,
                }
            )
        if failed and all_or_none:
            for response in responses:
                if response["httpStatusCode"] < 300:
                    response.update(_halted(response["referenceId"]))
            return Reply(200, {"compositeResponse": responses})
        outer.commit()
        return Reply(200, {"compositeResponse": responses})

    def _subrequest(self, step: Txn, ctx: Ctx, sub: dict[str, Any], done: dict[str, Any]) -> Reply:
        method = str(sub.get("method", "GET")).upper()
        url = _resolve(str(sub.get("url", "")), done)
        parts = urlsplit(url)
        match = _VERSION_PREFIX.match(parts.path)
        if match is None:
            raise SalesforceError(400, "INVALID_INPUT", f"unsupported subrequest URL: {url}")
        sub_ctx = Ctx(
            version=match.group(1),
            method=method,
            params=dict(parse_qsl(parts.query)),
            body=_resolve(sub.get("body"), done),
            headers={k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()},
        )
        reply = self.api.route(step, method, parts.path[match.end() :], sub_ctx)
        if reply.status == 201 and isinstance(reply.body, dict) and reply.body.get("id"):
            name = parts.path.rstrip("/").split("/sobjects/")[-1].split("/")[0]
            reply.headers["Location"] = self.api.record_url(sub_ctx, name, reply.body["id"])
        return reply


def _halted(ref: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": HALTED}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref,
    }


def _lookup(done: dict[str, Any], ref: str, path: str) -> Any:
    if ref not in done:
        raise SalesforceError(
            400,
            "PROCESSING_HALTED",
            f"Invalid reference specified. No value for {ref}{path} found in {ref}.",
        )
    value = done[ref]
    for key in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        name, index = key
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise SalesforceError(
                400,
                "PROCESSING_HALTED",
                f"Invalid reference specified. No value for {ref}{path} found in {ref}.",
            ) from None
    return value


def _resolve(value: Any, done: dict[str, Any]) -> Any:
    """Replace ``@{ref.path}`` in strings (recursively through lists and dicts)."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(done, whole.group(1), whole.group(2))
        return _REFERENCE.sub(lambda m: str(_lookup(done, m.group(1), m.group(2))), value)
    if isinstance(value, list):
        return [_resolve(v, done) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, done) for k, v in value.items()}
    return value
