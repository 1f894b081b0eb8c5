"""Initial loads of large objects through Bulk API 2.0 query jobs (simple-salesforce `bulk2`).

Why: a REST query pages 2,000 records a call, so an object of 500,000 records costs 250 calls of
the org's daily allowance. A Bulk API 2.0 query job (Bulk API 2.0 and Bulk API Developer Guide,
"Bulk API 2.0 Query") costs one call to create, one or a few to poll and one per ``maxRecords``
records of results (50,000 by default here): three calls for a job whose results fit one
page (results cannot be read before the job is complete: one poll), and Salesforce itself
recommends it for queries of more than 2,000 records. Which objects go that way is decided
with one call to the Record Count resource (REST API Developer Guide, "Record Count"), for
every object at once: those with at least ``bulk_threshold`` records; the rest keep the REST
path, and so do all incremental reads. A threshold of 0 sends every object through Bulk and
skips that call.

Bulk results are CSV, all text: each value is typed back from the object's describe (booleans,
integers, numbers; empty is null) and datetimes written as the REST API writes them, so a
record read by either path carries the same data (and the same event digest in the engine).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from pssync.connectors.errors import AuthError
from pssync.connectors.salesforce.soql import ident
from pssync.connectors.salesforce.transport import ApiMeter, translated

NUMBERS = frozenset({"double", "currency", "percent"})
_BULK_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Host(Protocol):
    meter: ApiMeter

    def call(self, action: Callable[[Any], Any]) -> Any: ...

    def client(self) -> Any: ...

    def renew(self) -> bool: ...

    def describe_raw(self, obj: str) -> dict[str, Any]: ...


def typed(value: str, kind: str | None) -> Any:
    """One CSV cell as the REST API's JSON would carry it."""
    if value == "":
        return None
    if kind == "boolean":
        return value.lower() == "true"
    if kind == "int":
        return int(float(value))
    if kind in NUMBERS:
        number = float(value)
        return int(number) if "." not in value and "e" not in value.lower() else number
    if _BULK_DATETIME.match(value):
        return value[:-1] + "+0000"
    return value


class BulkReader:
    def __init__(
        self,
        host: Host,
        objects: tuple[str, ...],
        *,
        threshold: int | None,
        page_records: int,
        poll_seconds: float,
    ) -> None:
        self.host = host
        self.objects = objects
        self.threshold = threshold
        self.page_records = page_records
        self.poll_seconds = poll_seconds
        self._counts: dict[str, int] | None = None

    def counts(self) -> dict[str, int]:
        """Records per object, from one Record Count call (cached for this connector)."""
        if self._counts is None:
            names = ",".join(ident(o) for o in self.objects)
            answer = self.host.call(
                lambda sf: sf.restful("limits/recordCount", params={"sObjects": names})
            )
            self._counts = {
                str(c["name"]).lower(): int(c["count"]) for c in answer.get("sObjects", [])
            }
        return self._counts

    def wanted(self, obj: str) -> bool:
        """Whether `obj` is large enough to read in bulk."""
        if self.threshold is None:
            return False
        if self.threshold == 0:  # every object: no Record Count call needed to decide
            return True
        return self.counts().get(ident(obj).lower(), 0) >= self.threshold

    def rows(self, obj: str, soql: str) -> Iterator[list[dict[str, Any]]]:
        """The query's records, one list per page of results (one API call each). After a
        401 INVALID_SESSION_ID the connector logs in again once (when its settings allow) and
        runs the job anew; pages already handed out come again, which is harmless (their
        pages carry no cursor, and the engine's inbox drops a record it has already seen)."""
        renewed = False
        while True:
            try:
                yield from self._pages(obj, soql)
                return
            except AuthError as exc:
                if exc.status != 401 or renewed or not self.host.renew():
                    raise
                renewed = True

    def _pages(self, obj: str, soql: str) -> Iterator[list[dict[str, Any]]]:
        kinds = {
            str(f["name"]).lower(): str(f["type"]) for f in self.host.describe_raw(obj)["fields"]
        }
        handler = getattr(self.host.client().bulk2, ident(obj))
        # A generator: each next() is one call (the first creates and polls the job).
        pages = handler.query(soql, max_records=self.page_records, wait=self.poll_seconds)
        while True:
            with translated(self.host.meter):
                text = next(pages, None)
            if text is None:
                return
            reader = csv.DictReader(io.StringIO(text))
            yield [
                {name: typed(value, kinds.get(name.lower())) for name, value in row.items()}
                for row in reader
            ]
