"""sObject Collections: create, update, upsert and delete up to 200 records per call.

This is how a sync stays inside its API allowance. ``allOrNone`` is honoured: with it, one
failing record rolls the whole call back (nested transactions make that exact); without it,
each record stands alone and the valid ones are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pssync.sandbox.salesforce.data import Txn
from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.ids import prefix_object
from pssync.sandbox.salesforce.routing import Ctx, Reply, Router

if TYPE_CHECKING:
    from pssync.sandbox.salesforce.api import SalesforceApi

MAX_RECORDS = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using"
    " AllOrNone header",
    "fields": [],
}

Operation = Callable[[Txn, dict[str, Any]], dict[str, Any]]


def register(router: Router, api: SalesforceApi) -> None:
    handlers = CollectionHandlers(api)
    router.add("POST", "/composite/sobjects", handlers.create)
    router.add("PATCH", "/composite/sobjects", handlers.update)
    router.add("DELETE", "/composite/sobjects", handlers.delete)
    router.add("GET", r"/composite/sobjects/(?P<name>\w+)", handlers.retrieve)
    router.add("PATCH", r"/composite/sobjects/(?P<name>\w+)/(?P<field>\w+)", handlers.upsert)


def _too_many() -> SalesforceError:
    return SalesforceError(
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )


def _flag(value: object) -> bool:
    return value is True or str(value).lower() == "true"


class CollectionHandlers:
    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.records = api.records

    # -- sObject Collections ----------------------------------------------------------------

    def _records(self, ctx: Ctx) -> tuple[list[dict[str, Any]], bool]:
        body = ctx.object_body()
        records = body.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "records must be a list of objects")
        if len(records) > MAX_RECORDS:
            raise _too_many()
        return records, _flag(body.get("allOrNone", False))

    def _run(
        self, txn: Txn, items: list[dict[str, Any]], all_or_none: bool, op: Operation
    ) -> Reply:
        """Apply `op` per item in its own savepoint; with allOrNone, any failure undoes all."""
        outer = txn.child()
        results: list[dict[str, Any]] = []
        failed = False
        for item in items:
            step = outer.child()
            try:
                result = op(step, item)
            except SalesforceError as exc:
                failed = True
                results.append({"id": None, "success": False, "errors": [exc.record_error()]})
                continue
            step.commit()
            results.append({**result, "success": True, "errors": []})
        if failed and all_or_none:
            for result in results:
                if result["success"]:
                    result.update(id=None, success=False, errors=[dict(ROLLED_BACK)])
            return Reply(200, [_ordered(r) for r in results])
        outer.commit()
        return Reply(200, [_ordered(r) for r in results])

    def _typed(self, item: dict[str, Any]) -> Any:
        attrs = item.get("attributes")
        name = attrs.get("type") if isinstance(attrs, dict) else None
        if not name:
            raise SalesforceError(400, "INVALID_TYPE", "Must send a concrete entity type.")
        return self.records.objdef(str(name))

    def create(self, txn: Txn, ctx: Ctx) -> Reply:
        records, all_or_none = self._records(ctx)

        def op(step: Txn, item: dict[str, Any]) -> dict[str, Any]:
            if item.get("Id"):
                raise SalesforceError(
                    400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                )
            return {"id": self.records.create(step, self._typed(item), item)}

        return self._run(txn, records, all_or_none, op)

    def update(self, txn: Txn, ctx: Ctx) -> Reply:
        records, all_or_none = self._records(ctx)

        def op(step: Txn, item: dict[str, Any]) -> dict[str, Any]:
            if not item.get("Id"):
                raise SalesforceError(
                    400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"]
                )
            record_id = str(item["Id"])
            body = {k: v for k, v in item.items() if k != "Id"}
            return {"id": self.records.update(step, self._typed(item), record_id, body)}

        return self._run(txn, records, all_or_none, op)

    def upsert(self, txn: Txn, ctx: Ctx, name: str, field: str) -> Reply:
        obj = self.records.objdef(name)
        records, all_or_none = self._records(ctx)
        ext = obj.field(field)
        if ext is None or not (ext.external_id or ext.name == "Id"):
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"Field name provided, {field} is not an External ID or"
                " indexed field for " + obj.name,
            )
        keys = [str(r.get(ext.name, "")).casefold() for r in records]
        duplicates = {k for k in keys if k and keys.count(k) > 1}

        def op(step: Txn, item: dict[str, Any]) -> dict[str, Any]:
            value = item.get(ext.name)
            if value in (None, ""):
                raise SalesforceError(
                    400, "MISSING_ARGUMENT", f"{ext.name} not specified", [ext.name]
                )
            if str(value).casefold() in duplicates:
                raise SalesforceError(
                    400, "DUPLICATE_VALUE", f"Duplicate external id specified: {value}", [ext.name]
                )
            if self._typed(item).name != obj.name:
                raise SalesforceError(400, "INVALID_TYPE", "record type does not match the URL")
            body = {k: v for k, v in item.items() if k != ext.name}
            matches = self.records.find_external(step, obj, ext.name, str(value))
            if len(matches) > 1:
                raise SalesforceError(
                    300,
                    "DUPLICATE_EXTERNAL_ID",
                    f"Provided external ID field value matches multiple records: {value}",
                    [ext.name],
                )
            record_id, created = self.records.upsert(step, obj, ext.name, str(value), body)
            return {"id": record_id, "created": created}

        reply = self._run(txn, records, all_or_none, op)
        for result in reply.body:
            result.setdefault("created", False)
        return reply

    def delete(self, txn: Txn, ctx: Ctx) -> Reply:
        ids = [i for i in ctx.params.get("ids", "").split(",") if i]
        if len(ids) > MAX_RECORDS:
            raise _too_many()

        def op(step: Txn, item: dict[str, Any]) -> dict[str, Any]:
            record_id = str(item["id"])
            name = prefix_object(record_id)
            if name is None:
                raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}", [])
            self.records.delete(step, self.records.objdef(name), record_id)
            return {"id": record_id}

        reply = self._run(txn, [{"id": i} for i in ids], _flag(ctx.params.get("allOrNone")), op)
        for result, record_id in zip(reply.body, ids, strict=True):
            if not result["success"] and not result["errors"][0]["statusCode"].startswith("ALL"):
                result["id"] = record_id
        return reply

    def retrieve(self, txn: Txn, ctx: Ctx, name: str) -> Reply:
        from pssync.sandbox.salesforce.sobjects import SObjectHandlers

        obj = self.records.objdef(name)
        ids = [i for i in ctx.params.get("ids", "").split(",") if i]
        fields = ctx.params.get("fields")
        if not fields:
            raise SalesforceError(400, "MISSING_ARGUMENT", "fields is required")
        render = SObjectHandlers(self.api).render
        out: list[Any] = []
        for record_id in ids:
            try:
                out.append(render(ctx, obj, self.records.get(txn, obj, record_id), fields))
            except SalesforceError as exc:
                if exc.code == "INVALID_FIELD":
                    raise
                out.append(None)
        return Reply(200, out)


def _ordered(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "success", "errors", "created")
    return {k: result[k] for k in keys if k in result}
