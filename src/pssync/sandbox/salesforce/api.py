"""The versioned REST resources under ``/services/data/vXX.X``, independent of HTTP plumbing.

Handlers take a transaction and a request context and return a `Reply`; the ASGI layer and the
composite resource both call `dispatch`, so a composite subrequest behaves exactly like the
same request sent on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pssync.sandbox.salesforce.bulk_jobs import JobTable
from pssync.sandbox.salesforce.catalog import Catalog
from pssync.sandbox.salesforce.data import Base, Txn
from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.limits import ApiUsage
from pssync.sandbox.salesforce.query import QueryEngine, batch_size
from pssync.sandbox.salesforce.records import MultipleMatchesError, Records
from pssync.sandbox.salesforce.routing import Ctx, Reply, Router
from pssync.sandbox.salesforce.timefmt import format_datetime, parse_query_param

MIN_REPLICATION_SPAN = dt.timedelta(minutes=1)
DELETED_DAYS = 15  # REST API Developer Guide, "sObject Get Deleted"
UPDATED_DAYS = 30  # REST API Developer Guide, "sObject Get Updated"


class SalesforceApi:
    def __init__(
        self,
        catalog: Catalog,
        base: Base,
        records: Records,
        queries: QueryEngine,
        usage: ApiUsage,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.catalog = catalog
        self.base = base
        self.records = records
        self.queries = queries
        self.usage = usage
        self.clock = clock
        self.router = Router()
        self.jobs = JobTable()  # Bulk API 2.0 jobs
        self._register()

    def _register(self) -> None:
        from pssync.sandbox.salesforce import (
            bulk_ingest,
            bulk_query,
            composite,
            sobject_collections,
            sobjects,
        )

        r = self.router
        r.add("GET", "", self.resources)
        r.add("GET", "/limits", lambda txn, ctx: Reply(200, self.usage.limits()))
        r.add("GET", "/limits/recordCount", self.record_count)
        r.add("GET", "/(?P<resource>query|queryAll)", self.query)
        r.add("GET", "/(?P<resource>query|queryAll)/(?P<locator>[^/]+)", self.query_more)
        r.add("GET", r"/sobjects/(?P<name>\w+)/updated", self.updated)
        r.add("GET", r"/sobjects/(?P<name>\w+)/deleted", self.deleted)
        sobjects.register(r, self)
        sobject_collections.register(r, self)
        composite.register(r, self)
        bulk_query.register(r, self, self.jobs)
        bulk_ingest.register(r, self, self.jobs)

    # -- dispatch ---------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, ctx: Ctx) -> Reply:
        """Run one request in its own transaction: committed on success, dropped on error."""
        with self.base.lock:
            txn = Txn(self.base)
            reply = self.route(txn, method, path, ctx)
            if reply.status < 300:
                txn.commit()
            return reply

    def route(self, txn: Txn, method: str, path: str, ctx: Ctx) -> Reply:
        try:
            handler, args = self.router.match(method, path.rstrip("/"))
            return handler(txn, ctx, **args)
        except MultipleMatchesError as exc:
            urls = [self.record_url(ctx, exc.obj, i) for i in exc.ids]
            return Reply(300, urls)
        except SalesforceError as exc:
            return Reply(exc.status, exc.envelope())

    def record_url(self, ctx: Ctx, obj: str, record_id: str) -> str:
        return f"/services/data/v{ctx.version}/sobjects/{obj}/{record_id}"

    # -- resources --------------------------------------------------------------------------

    def resources(self, txn: Txn, ctx: Ctx) -> Reply:
        base = f"/services/data/v{ctx.version}"
        names = ("sobjects", "query", "queryAll", "composite", "limits")
        return Reply(200, {name: f"{base}/{name}" for name in names})

    def record_count(self, txn: Txn, ctx: Ctx) -> Reply:
        """REST API Developer Guide, "Record Count": ``?sObjects=Account,Contact`` answers
        ``{"sObjects": [{"count", "name"}]}`` (every object when the parameter is absent)."""
        wanted = [n for n in ctx.params.get("sObjects", "").split(",") if n.strip()]
        objects = [self.records.objdef(n.strip()) for n in wanted] or list(
            self.catalog.objects.values()
        )
        counts = [
            {"count": sum(1 for r in txn.rows(o.name) if not r.get("IsDeleted")), "name": o.name}
            for o in objects
        ]
        return Reply(200, {"sObjects": counts})

    def query(self, txn: Txn, ctx: Ctx, resource: str) -> Reply:
        soql = ctx.params.get("q")
        if not soql:
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        result = self.queries.run(
            txn,
            soql,
            version=ctx.version,
            include_deleted=resource == "queryAll",
            page_size=batch_size(ctx.headers.get("sforce-query-options")),
        )
        return Reply(200, result)

    def query_more(self, txn: Txn, ctx: Ctx, resource: str, locator: str) -> Reply:
        page = batch_size(ctx.headers.get("sforce-query-options"))
        return Reply(200, self.queries.more(locator, page_size=page))

    def _window(self, ctx: Ctx, days: int) -> tuple[dt.datetime, dt.datetime]:
        """The [start, end] of getUpdated/getDeleted, refused as Salesforce refuses it.

        SOAP API Developer Guide, getDeleted() / getUpdated() "Rules and Guidelines": the start
        must precede the end by more than one minute, and results go back no more than
        `days` (15 for getDeleted, 30 for getUpdated) before the day of the call; otherwise
        ``INVALID_REPLICATION_DATE``. REST API Developer Guide, "sObject Get Deleted": the API
        ignores the seconds of start and end (12:30:15 is 12:30:00), so both are cut to the
        minute; an end after the call's time is the call's time (latestDateCovered).
        """
        try:
            start = parse_query_param(ctx.params["start"])
            end = parse_query_param(ctx.params["end"])
        except (KeyError, ValueError):
            raise SalesforceError(
                400, "INVALID_REPLICATION_DATE", "start and end must be ISO 8601 datetimes"
            ) from None
        if end - start <= MIN_REPLICATION_SPAN:
            raise SalesforceError(
                400,
                "INVALID_REPLICATION_DATE",
                "startDate must chronologically precede endDate by more than one minute",
            )
        now = self.clock()
        oldest = self._oldest(days)
        if start < oldest:
            raise SalesforceError(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate is before the earliest date available ({format_datetime(oldest)}):"
                f" replication goes back {days} days at most",
            )
        return _minute(start), _minute(min(end, now))

    def _oldest(self, days: int) -> dt.datetime:
        """The oldest moment replication serves: `days` before the day of the call. This org
        never purges its delete log early, so it is also getDeleted's earliestDateAvailable."""
        midnight = self.clock().replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - dt.timedelta(days=days)

    def updated(self, txn: Txn, ctx: Ctx, name: str) -> Reply:
        """getUpdated: IDs whose SystemModstamp falls in [start, end]."""
        obj = self.records.objdef(name)
        start, end = self._window(ctx, UPDATED_DAYS)
        lo, hi = format_datetime(start), format_datetime(end)
        ids = [
            r["Id"]
            for r in txn.rows(obj.name)
            if not r.get("IsDeleted") and lo <= r["SystemModstamp"] <= hi
        ]
        return Reply(200, {"ids": ids, "latestDateCovered": hi})

    def deleted(self, txn: Txn, ctx: Ctx, name: str) -> Reply:
        """getDeleted: IDs and deletion times of records deleted in [start, end)."""
        obj = self.records.objdef(name)
        start, end = self._window(ctx, DELETED_DAYS)
        rows = self.base.store.deleted_between(obj.name, start, end)
        return Reply(
            200,
            {
                "deletedRecords": [
                    {
                        "id": record_id,
                        "deletedDate": format_datetime(dt.datetime.fromisoformat(when)),
                    }
                    for record_id, when in rows
                ],
                "earliestDateAvailable": format_datetime(self._oldest(DELETED_DAYS)),
                "latestDateCovered": format_datetime(end),
            },
        )


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)
