"""The query and queryAll resources: run SOQL, page results 2,000 at a time behind a locator.

Matching records are fixed when the query runs (records are never mutated in place, so holding
references is a snapshot) and projected page by page, as the platform's server-side cursors
behave: a later write does not change the pages of a cursor already opened.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pssync.sandbox.salesforce.catalog import Catalog
from pssync.sandbox.salesforce.data import Record, Txn
from pssync.sandbox.salesforce.errors import SalesforceError
from pssync.sandbox.salesforce.ids import QUERY_LOCATOR_PREFIX, IdFactory
from pssync.sandbox.salesforce.soql.evaluate import Compiled, Compiler
from pssync.sandbox.salesforce.soql.parser import parse

PAGE_SIZE = 2000
MAX_CURSORS = 200


@dataclass
class Cursor:
    compiled: Compiled
    rows: list[Record]
    resource: str  # "query" or "queryAll", for nextRecordsUrl
    version: str


class QueryEngine:
    def __init__(self, catalog: Catalog, ids: IdFactory, clock: Callable[[], dt.datetime]) -> None:
        self.catalog = catalog
        self.ids = ids
        self.clock = clock
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._lock = threading.Lock()

    def run(
        self,
        txn: Txn,
        soql: str,
        *,
        version: str,
        include_deleted: bool,
        page_size: int = PAGE_SIZE,
    ) -> dict[str, Any]:
        compiled = Compiler(self.catalog, txn.get, version, self.clock().date()).compile(
            parse(soql)
        )
        predicate = compiled.predicate
        rows = [
            r
            for r in txn.rows(compiled.obj.name)
            if (include_deleted or not r.get("IsDeleted")) and predicate(r)
        ]
        if compiled.count_only:
            return {"totalSize": len(rows), "done": True, "records": []}
        rows = compiled.sort(rows)[compiled.offset :]
        if compiled.limit is not None:
            rows = rows[: compiled.limit]
        resource = "queryAll" if include_deleted else "query"
        cursor = Cursor(compiled, rows, resource, version)
        return self._page(self._open(cursor), cursor, 0, page_size)

    def more(self, locator: str, *, page_size: int = PAGE_SIZE) -> dict[str, Any]:
        cursor_id, _, offset = locator.partition("-")
        with self._lock:
            cursor = self._cursors.get(cursor_id)
        if cursor is None or not offset.isdigit() or int(offset) > len(cursor.rows):
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor_id, cursor, int(offset), page_size)

    def _open(self, cursor: Cursor) -> str:
        cursor_id = self.ids.new(QUERY_LOCATOR_PREFIX)
        with self._lock:
            self._cursors[cursor_id] = cursor
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        return cursor_id

    def _page(self, cursor_id: str, cursor: Cursor, offset: int, size: int) -> dict[str, Any]:
        end = min(offset + size, len(cursor.rows))
        result: dict[str, Any] = {
            "totalSize": len(cursor.rows),
            "done": end >= len(cursor.rows),
            "records": [cursor.compiled.project(r) for r in cursor.rows[offset:end]],
        }
        if not result["done"]:
            result["nextRecordsUrl"] = (
                f"/services/data/v{cursor.version}/{cursor.resource}/{cursor_id}-{end}"
            )
        return result


def batch_size(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=500`` (200..2000); anything else keeps 2,000."""
    if not header:
        return PAGE_SIZE
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "batchSize" and value.isdigit():
            return max(200, min(PAGE_SIZE, int(value)))
    return PAGE_SIZE
