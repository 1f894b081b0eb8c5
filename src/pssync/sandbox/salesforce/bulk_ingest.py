"""Bulk API 2.0 ingest jobs under ``/services/data/vXX.X/jobs/ingest``.

Bulk API 2.0 and Bulk API Developer Guide, "Bulk API 2.0 Ingest": ``POST /jobs/ingest`` with
``{"object", "operation": insert|update|upsert|delete|hardDelete, "externalIdFieldName"}``
opens a job (state ``Open``, with its ``contentUrl``); ``PUT .../batches`` uploads the CSV
(201); ``PATCH`` with ``{"state": "UploadComplete"}`` closes it and the records are processed
(each on its own: one bad record fails alone); ``GET`` reports ``JobComplete`` with
``numberRecordsProcessed`` and ``numberRecordsFailed``; ``successfulResults/`` answers CSV with
``sf__Id`` and ``sf__Created`` before the uploaded columns, ``failedResults/`` with ``sf__Id``
and ``sf__Error`` (``CODE:message:fields --``), ``unprocessedrecords/`` the rows never
processed (those of an aborted job). In the uploaded CSV an empty value leaves the field alone
and ``#N/A`` sets it to null; ``Account.External_Id__c`` names a parent by external ID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.sandbox.salesforce.bulk_jobs import (
    JOB_PREFIX,
    NULL,
    Job,
    JobTable,
    dialect,
    invalid_job,
)
from pssync.sandbox.salesforce.data import Txn
from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.ids import to18
from pssync.sandbox.salesforce.routing import Ctx, Reply, Router

if TYPE_CHECKING:
    from pssync.sandbox.salesforce.api import SalesforceApi

PATH = "/jobs/ingest"
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
RESULTS = {"successfulResults", "failedResults", "unprocessedrecords"}


def register(router: Router, api: SalesforceApi, jobs: JobTable) -> None:
    handlers = IngestJobs(api, jobs)
    router.add("POST", PATH, handlers.create)
    router.add("GET", PATH, handlers.list)
    router.add("GET|PATCH|DELETE", PATH + r"/(?P<job_id>\w+)", handlers.job)
    router.add("PUT", PATH + r"/(?P<job_id>\w+)/batches", handlers.upload)
    router.add("GET", PATH + r"/(?P<job_id>\w+)/(?P<kind>\w+)", handlers.results)


def body_of(columns: list[str], row: list[str]) -> dict[str, Any]:
    """One CSV row as a record body: empty cells skipped, #N/A null, dotted parents nested."""
    body: dict[str, Any] = {}
    for name, value in zip(columns, row, strict=False):
        if value == "":
            continue
        parsed = None if value == NULL else value
        if "." in name:
            parent, _, key = name.partition(".")
            body.setdefault(parent, {})[key] = parsed
        else:
            body[name] = parsed
    return body


def error_text(exc: SalesforceError) -> str:
    return f"{exc.code}:{exc.message}:{','.join(exc.fields or [])} --"


class IngestJobs:
    def __init__(self, api: SalesforceApi, jobs: JobTable) -> None:
        self.api = api
        self.records = api.records
        self.jobs = jobs

    def create(self, txn: Txn, ctx: Ctx) -> Reply:
        body = ctx.object_body()
        operation = str(body.get("operation") or "")
        if operation not in OPERATIONS:
            raise invalid_job(f"Invalid operation: {operation!r}")
        obj = self.records.objdef(str(body.get("object") or ""))
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            f = obj.field(str(external or ""))
            if f is None or not (f.external_id or f.name == "Id"):
                raise invalid_job(f"{external!r} is not an external ID field of {obj.name}")
            external = f.name
        ending, delimiter = dialect(body)
        job = Job(
            id=self.records.ids.new(JOB_PREFIX),
            operation=operation,
            object=obj.name,
            created_by=self.records.user_id,
            created=self.api.clock(),
            version=ctx.version,
            line_ending=ending,
            delimiter=delimiter,
            external_id=str(external) if external else None,
        )
        self.jobs.add(job)
        return Reply(200, job.info())

    def list(self, txn: Txn, ctx: Ctx) -> Reply:
        records = [j.info() for j in self.jobs.jobs.values() if not j.is_query]
        return Reply(200, {"done": True, "records": records, "nextRecordsUrl": None})

    def upload(self, txn: Txn, ctx: Ctx, job_id: str) -> Reply:
        job = self.jobs.get(job_id, query=False)
        if job.state != "Open":
            raise invalid_job(f"Job {job_id} is not open for data ({job.state})")
        if job.rows:
            raise invalid_job("A job takes one upload; open another job for more data")
        if not isinstance(ctx.body, str):
            raise SalesforceError(400, "INVALIDBATCH", "InvalidBatch : the data must be CSV")
        job.columns, job.rows = job.parse(ctx.body)
        return Reply(201)

    def job(self, txn: Txn, ctx: Ctx, job_id: str) -> Reply:
        job = self.jobs.get(job_id, query=False)
        if ctx.method == "GET":
            return Reply(200, job.info(detailed=True))
        if ctx.method == "DELETE":
            if job.state not in ("JobComplete", "Aborted", "Failed"):
                raise invalid_job("Only jobs in a terminal state can be deleted")
            self.jobs.remove(job_id)
            return Reply(204)
        state = ctx.object_body().get("state")
        if state == "Aborted" and job.state in ("Open", "UploadComplete", "InProgress"):
            job.state = "Aborted"
            return Reply(200, job.info())
        if state != "UploadComplete" or job.state != "Open":
            raise invalid_job(f"Cannot set state {state!r} on a job in state {job.state}")
        if not job.rows:
            job.state = "Failed"
            return Reply(200, job.info())
        job.state = "UploadComplete"
        reply = Reply(200, job.info())
        self._process(txn, job)
        return reply

    def _process(self, txn: Txn, job: Job) -> None:
        obj = self.records.objdef(job.object)
        for row in job.rows:
            body = body_of(job.columns, row)
            step = txn.child()
            try:
                record_id, created = self._apply(step, job, obj.name, body)
            except SalesforceError as exc:
                job.failures.append([str(body.get("Id") or ""), error_text(exc), *row])
                continue
            step.commit()
            job.successes.append([record_id, "true" if created else "false", *row])
        job.processed = len(job.rows)
        job.state = "JobComplete"
        job.modstamp = self.api.clock()

    def _apply(self, step: Txn, job: Job, name: str, body: dict[str, Any]) -> tuple[str, bool]:
        obj = self.records.objdef(name)
        if job.operation == "insert":
            return self.records.create(step, obj, body), True
        if job.operation == "upsert":
            assert job.external_id is not None
            value = body.pop(job.external_id, None)
            if not value:
                raise SalesforceError(
                    400, "MISSING_ARGUMENT", f"{job.external_id} not specified", [job.external_id]
                )
            return self.records.upsert(step, obj, job.external_id, str(value), body)
        record_id = str(body.pop("Id", "") or "")
        if not record_id:
            raise SalesforceError(400, "MISSING_ARGUMENT", "Id not specified", ["Id"])
        if job.operation == "update":
            return self.records.update(step, obj, record_id, body), False
        self.records.delete(step, obj, record_id)
        return to18(record_id), False

    def results(self, txn: Txn, ctx: Ctx, job_id: str, kind: str) -> Reply:
        if kind not in RESULTS:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        job = self.jobs.get(job_id, query=False)
        headers = {"Content-Type": "text/csv"}
        if kind == "successfulResults":
            text = job.csv(["sf__Id", "sf__Created", *job.columns], job.successes)
        elif kind == "failedResults":
            text = job.csv(["sf__Id", "sf__Error", *job.columns], job.failures)
        else:
            pending = job.rows if job.state == "Aborted" and not job.processed else []
            text = job.csv(job.columns, pending)
        return Reply(200, text, headers)
