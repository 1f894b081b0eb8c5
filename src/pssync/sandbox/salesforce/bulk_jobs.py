"""Bulk API 2.0 jobs: their info records, the CSV dialects they speak, and the job table.

Bulk API 2.0 and Bulk API Developer Guide: a job's info (``id``, ``operation``, ``object``,
``state``, ``concurrencyMode``, ``contentType``, ``apiVersion``, ``lineEnding``,
``columnDelimiter``; ingest jobs add ``externalIdFieldName`` and ``contentUrl``; a job read back
adds ``jobType``, ``numberRecordsProcessed``, ``retries`` and ``totalProcessingTime``, ingest jobs
``numberRecordsFailed``). Data travels as CSV with a header row, every value quoted in results,
``lineEnding`` LF or CRLF and ``columnDelimiter`` one of COMMA, TAB, PIPE, SEMICOLON, CARET,
BACKQUOTE. In uploaded data an empty value leaves a field alone and ``#N/A`` sets it to null
("Prepare CSV Files"); datetimes in results read ``2023-01-01T00:00:00.000Z``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from dataclasses import dataclass, field
from typing import Any

from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.timefmt import format_datetime

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL = "#N/A"
JOB_PREFIX = "750"


def invalid_job(message: str) -> SalesforceError:
    return SalesforceError(400, "INVALIDJOB", message)


@dataclass
class Job:
    id: str
    operation: str
    object: str
    created_by: str
    created: dt.datetime
    version: str
    line_ending: str = "LF"
    delimiter: str = "COMMA"
    state: str = "Open"
    query: str | None = None
    external_id: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # query results, or uploaded data
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    processed: int = 0
    modstamp: dt.datetime | None = None

    @property
    def is_query(self) -> bool:
        return self.operation in ("query", "queryAll")

    def info(self, detailed: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": format_datetime(self.created),
            "systemModstamp": format_datetime(self.modstamp or self.created),
            "state": self.state,
        }
        if not self.is_query:
            out["externalIdFieldName"] = self.external_id
        out.update(
            concurrencyMode="Parallel",
            contentType="CSV",
            apiVersion=float(self.version),
            lineEnding=self.line_ending,
            columnDelimiter=self.delimiter,
        )
        if not self.is_query and self.state == "Open":
            out["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
        if detailed:
            out["jobType"] = "V2Query" if self.is_query else "V2Ingest"
            out["numberRecordsProcessed"] = self.processed
            if not self.is_query:
                out["numberRecordsFailed"] = len(self.failures)
            out.update(retries=0, totalProcessingTime=0)
            if not self.is_query:
                out.update(apiActiveProcessingTime=0, apexProcessingTime=0)
        return out

    def csv(self, header: list[str], rows: list[list[str]]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer,
            delimiter=DELIMITERS[self.delimiter],
            lineterminator=ENDINGS[self.line_ending],
            quoting=csv.QUOTE_ALL,
        )
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()

    def parse(self, text: str) -> tuple[list[str], list[list[str]]]:
        reader = csv.reader(io.StringIO(text), delimiter=DELIMITERS[self.delimiter])
        rows = [row for row in reader if row]
        if not rows:
            raise SalesforceError(400, "INVALIDBATCH", "InvalidBatch : Missing header row")
        return rows[0], rows[1:]


def dialect(body: dict[str, Any]) -> tuple[str, str]:
    """(lineEnding, columnDelimiter) of a job request, checked."""
    ending = str(body.get("lineEnding") or "LF")
    delimiter = str(body.get("columnDelimiter") or "COMMA")
    if ending not in ENDINGS:
        raise invalid_job(f"Invalid line ending: {ending}")
    if delimiter not in DELIMITERS:
        raise invalid_job(f"Invalid column delimiter: {delimiter}")
    if str(body.get("contentType") or "CSV") != "CSV":
        raise invalid_job("Only CSV is supported")
    return ending, delimiter


def cell(value: Any) -> str:
    """A result value as Bulk API CSV writes it (null is empty, datetimes end in Z)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if len(text) == 28 and text.endswith("+0000") and text[10] == "T":
        return text[:-5] + "Z"
    return text


class JobTable:
    """Jobs of one org, by id (kept for the emulator's lifetime; the org keeps them 7 days)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def add(self, job: Job) -> Job:
        with self.lock:
            self.jobs[job.id] = job
        return job

    def get(self, job_id: str, query: bool) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.is_query != query:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def remove(self, job_id: str) -> None:
        with self.lock:
            self.jobs.pop(job_id, None)
