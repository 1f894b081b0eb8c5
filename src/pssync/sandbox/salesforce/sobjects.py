"""sObject resources: describeGlobal, describe, and single-record create/read/update/delete/upsert.

URL shapes and status codes follow the REST API Developer Guide ("sObject Basic Information",
"sObject Describe", "sObject Rows", "sObject Rows by External ID"): create answers 201 with
``{"id", "success", "errors"}``, update and delete answer 204, upsert answers 201 when it
creates and 200 with ``created: false`` when it updates (204 before API version 46.0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.sandbox.salesforce.data import Record, Txn
from pssync.sandbox.salesforce.errors import invalid_field, not_found
from pssync.sandbox.salesforce.records import MultipleMatchesError
from pssync.sandbox.salesforce.routing import Ctx, Reply, Router
from pssync.sandbox.salesforce.schema import ObjectDef
from pssync.sandbox.salesforce.soql.evaluate import attributes

if TYPE_CHECKING:
    from pssync.sandbox.salesforce.api import SalesforceApi

UPSERT_BODY_VERSION = 46.0


def register(router: Router, api: SalesforceApi) -> None:
    handlers = SObjectHandlers(api)
    router.add("GET", "/sobjects", handlers.describe_global)
    router.add("GET", r"/sobjects/(?P<name>\w+)", handlers.info)
    router.add("POST", r"/sobjects/(?P<name>\w+)", handlers.create)
    router.add("GET", r"/sobjects/(?P<name>\w+)/describe", handlers.describe)
    router.add("POST", r"/sobjects/(?P<name>\w+)/Id", handlers.create_by_id_upsert)
    router.add("GET|PATCH|DELETE", r"/sobjects/(?P<name>\w+)/(?P<record_id>[^/]+)", handlers.row)
    router.add(
        "GET|PATCH|DELETE",
        r"/sobjects/(?P<name>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
        handlers.by_external_id,
    )


class SObjectHandlers:
    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.records = api.records

    def describe_global(self, txn: Txn, ctx: Ctx) -> Reply:
        objects = self.api.catalog.objects.values()
        return Reply(
            200,
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [o.summary(ctx.version) for o in objects],
            },
        )

    def info(self, txn: Txn, ctx: Ctx, name: str) -> Reply:
        obj = self.records.objdef(name)
        return Reply(200, {"objectDescribe": obj.summary(ctx.version), "recentItems": []})

    def describe(self, txn: Txn, ctx: Ctx, name: str) -> Reply:
        obj = self.records.objdef(name)
        children = self.api.catalog.children(obj.name, ctx.version)
        return Reply(200, obj.describe(ctx.version, children))

    def create(self, txn: Txn, ctx: Ctx, name: str) -> Reply:
        obj = self.records.objdef(name)
        record_id = self.records.create(txn, obj, ctx.object_body())
        return Reply(201, {"id": record_id, "success": True, "errors": []})

    def create_by_id_upsert(self, txn: Txn, ctx: Ctx, name: str) -> Reply:
        """POST /sobjects/Type/Id: upsert with Id as the key and a null value, i.e. create."""
        obj = self.records.objdef(name)
        record_id = self.records.create(txn, obj, ctx.object_body())
        return Reply(201, self._upsert_body(ctx, record_id, True))

    def row(self, txn: Txn, ctx: Ctx, name: str, record_id: str) -> Reply:
        obj = self.records.objdef(name)
        if ctx.method == "GET":
            record = self.records.get(txn, obj, record_id)
            return Reply(200, self.render(ctx, obj, record, ctx.params.get("fields")))
        if ctx.method == "PATCH":
            self.records.update(txn, obj, record_id, ctx.object_body())
            return Reply(204)
        self.records.delete(txn, obj, record_id)
        return Reply(204)

    def by_external_id(self, txn: Txn, ctx: Ctx, name: str, field: str, value: str) -> Reply:
        obj = self.records.objdef(name)
        if ctx.method == "PATCH":
            if ctx.params.get("updateOnly", "").lower() == "true":
                matches = self.records.find_external(txn, obj, field, value)
                if not matches:
                    raise not_found()
            record_id, created = self.records.upsert(txn, obj, field, value, ctx.object_body())
            if not created and ctx.major < UPSERT_BODY_VERSION:
                return Reply(204)
            return Reply(201 if created else 200, self._upsert_body(ctx, record_id, created))
        matches = self.records.find_external(txn, obj, field, value)
        if len(matches) > 1:
            raise MultipleMatchesError(obj.name, matches)
        if not matches:
            raise not_found()
        if ctx.method == "DELETE":
            self.records.delete(txn, obj, matches[0])
            return Reply(204)
        record = self.records.get(txn, obj, matches[0])
        return Reply(200, self.render(ctx, obj, record, ctx.params.get("fields")))

    def _upsert_body(self, ctx: Ctx, record_id: str, created: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
        if ctx.major >= UPSERT_BODY_VERSION:
            body["created"] = created
        return body

    def render(self, ctx: Ctx, obj: ObjectDef, record: Record, fields: str | None) -> Record:
        """A record as the sObject Rows resource returns it, optionally cut to `fields`."""
        names = [f.name for f in obj.fields]
        if fields:
            names = []
            for raw in fields.split(","):
                f = obj.field(raw.strip())
                if f is None:
                    raise invalid_field(
                        f"No such column '{raw.strip()}' on entity '{obj.name}'. If you are"
                        " attempting to use a custom field, be sure to append the '__c' after the"
                        " custom field name. Please reference your WSDL or the describe call for"
                        " the appropriate names."
                    )
                names.append(f.name)
        out: Record = {"attributes": attributes(obj.name, record["Id"], ctx.version)}
        for name in names:
            out[name] = record.get(name)
        return out
