"""Bulk API 2.0 query jobs under ``/services/data/vXX.X/jobs/query``.

Bulk API 2.0 and Bulk API Developer Guide, "Bulk API 2.0 Query": ``POST /jobs/query`` with
``{"operation": "query"|"queryAll", "query": SOQL}`` creates a job (answer state
``UploadComplete``); ``GET /jobs/query/{id}`` reports it (``JobComplete`` once the results are
ready); ``GET /jobs/query/{id}/results?maxRecords=&locator=`` returns CSV, with the next page's
locator in ``Sforce-Locator`` (``null`` on the last) and the page's size in
``Sforce-NumberOfRecords``; ``PATCH`` with ``{"state": "Aborted"}`` aborts, ``DELETE`` deletes,
``GET /jobs/query`` lists. GROUP BY, OFFSET, TYPEOF, aggregates such as COUNT() and
parent-to-child subqueries are not supported by Bulk API 2.0 and are refused. The results are
fixed when the job runs, like a REST query cursor; the job is seen ``JobComplete`` by the first
read of it (a client must poll), and results asked for before that, or of an aborted job, are
refused with 412 ``JOB_NOT_COMPLETE`` ("Get Results for a Query Job").
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from pssync.sandbox.salesforce.bulk_jobs import (
    JOB_PREFIX,
    Job,
    JobTable,
    cell,
    dialect,
    invalid_job,
)
from pssync.sandbox.salesforce.data import Txn
from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.routing import Ctx, Reply, Router
from pssync.sandbox.salesforce.soql.evaluate import Compiler
from pssync.sandbox.salesforce.soql.parser import parse

if TYPE_CHECKING:
    from pssync.sandbox.salesforce.api import SalesforceApi

CSV_TYPE = "text/csv"
PATH = "/jobs/query"


def register(router: Router, api: SalesforceApi, jobs: JobTable) -> None:
    handlers = QueryJobs(api, jobs)
    router.add("POST", PATH, handlers.create)
    router.add("GET", PATH, handlers.list)
    router.add("GET|PATCH|DELETE", PATH + r"/(?P<job_id>\w+)", handlers.job)
    router.add("GET", PATH + r"/(?P<job_id>\w+)/results", handlers.results)


def _lookup(row: dict[str, Any], path: list[str]) -> Any:
    """A projected value by its SELECT path, case-insensitively (a null parent gives null)."""
    value: Any = row
    for part in path:
        if not isinstance(value, dict):
            return None
        keys = {k.lower(): k for k in value}
        value = value.get(keys.get(part.lower(), part))
    return value


def _status(state: str) -> str:
    """A job state as the JOB_NOT_COMPLETE message spells it (a job queued or running is
    IN_PROGRESS there; Aborted is ABORTED)."""
    if state in ("UploadComplete", "InProgress"):
        return "IN_PROGRESS"
    return "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(state)).upper()


def _locator(offset: int) -> str:
    """Locators are opaque; Salesforce's read as the base64 of the next offset ("MjAwMDA")."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int | None:
    if not locator:
        return 0
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class QueryJobs:
    def __init__(self, api: SalesforceApi, jobs: JobTable) -> None:
        self.api = api
        self.jobs = jobs

    def create(self, txn: Txn, ctx: Ctx) -> Reply:
        body = ctx.object_body()
        operation = str(body.get("operation") or "")
        if operation not in ("query", "queryAll"):
            raise invalid_job(f"Invalid operation for a query job: {operation!r}")
        soql = str(body.get("query") or "")
        if not soql:
            raise invalid_job("The query is required")
        ending, delimiter = dialect(body)
        upper = f" {soql.upper()} "
        if " GROUP BY " in upper or " OFFSET " in upper or " TYPEOF " in upper:
            raise SalesforceError(
                400, "API_ERROR", "Bulk API 2.0 does not support GROUP BY, OFFSET or TYPEOF"
            )
        parsed = parse(soql)
        if parsed.count_only:
            raise SalesforceError(400, "API_ERROR", "Aggregate queries are not supported")
        compiler = Compiler(self.api.catalog, txn.get, ctx.version, self.api.clock().date())
        compiled = compiler.compile(parsed)
        rows = [
            r
            for r in txn.rows(compiled.obj.name)
            if (operation == "queryAll" or not r.get("IsDeleted")) and compiled.predicate(r)
        ]
        rows = compiled.sort(rows)
        if compiled.limit is not None:
            rows = rows[: compiled.limit]
        paths = [list(ref.path) for ref in parsed.fields]
        job = Job(
            id=self.api.records.ids.new(JOB_PREFIX),
            operation=operation,
            object=compiled.obj.name,
            created_by=self.api.records.user_id,
            created=self.api.clock(),
            version=ctx.version,
            line_ending=ending,
            delimiter=delimiter,
            state="UploadComplete",
            query=soql,
            columns=[".".join(p) for p in paths],
        )
        # The job runs at once, but it is only seen complete by reading it (polling), as a
        # client of the real API must: results asked for before that are JOB_NOT_COMPLETE.
        job.rows = [[cell(_lookup(compiled.project(r), p)) for p in paths] for r in rows]
        job.processed = len(job.rows)
        self.jobs.add(job)
        return Reply(200, job.info())

    def list(self, txn: Txn, ctx: Ctx) -> Reply:
        records = [j.info() for j in self.jobs.jobs.values() if j.is_query]
        return Reply(200, {"done": True, "records": records, "nextRecordsUrl": None})

    def job(self, txn: Txn, ctx: Ctx, job_id: str) -> Reply:
        job = self.jobs.get(job_id, query=True)
        if ctx.method == "GET":
            if job.state == "UploadComplete":
                job.state = "JobComplete"
                job.modstamp = self.api.clock()
            return Reply(200, job.info(detailed=True))
        if ctx.method == "DELETE":
            if job.state not in ("JobComplete", "Aborted", "Failed"):
                raise invalid_job("Only jobs in a terminal state can be deleted")
            self.jobs.remove(job_id)
            return Reply(204)
        state = ctx.object_body().get("state")
        if state != "Aborted":
            raise invalid_job(f"A query job can only be set to Aborted, not {state!r}")
        if job.state in ("JobComplete", "Failed"):
            raise invalid_job("The job is already complete")
        job.state = "Aborted"
        return Reply(200, job.info())

    def results(self, txn: Txn, ctx: Ctx, job_id: str) -> Reply:
        job = self.jobs.get(job_id, query=True)
        if job.state != "JobComplete":
            raise SalesforceError(
                412,
                "JOB_NOT_COMPLETE",
                "can only download query results of successfully completed bulk job with "
                f"status: JOB_COMPLETE. Current status: {_status(job.state)}",
            )
        start = _offset(ctx.params.get("locator") or "")
        raw_max = ctx.params.get("maxRecords") or str(len(job.rows) or 1)
        if start is None or not raw_max.isdigit() or int(raw_max) < 1:
            raise SalesforceError(400, "INVALID_LOCATOR", "invalid locator or maxRecords")
        size = int(raw_max)
        page = job.rows[start : start + size]
        end = start + len(page)
        headers = {
            "Content-Type": CSV_TYPE,
            "Sforce-Locator": _locator(end) if end < len(job.rows) else "null",
            "Sforce-NumberOfRecords": str(len(page)),
        }
        return Reply(200, job.csv(job.columns, page), headers)
