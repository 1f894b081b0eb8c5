"""SuiteQL tables over the record store, and query execution with memoised results.

SuiteQL reads the analytics data source, whose shapes differ from REST records: column names
are lowercase, references are plain internal IDs, checkboxes are 'T'/'F', sublists are separate
tables, and transactions of every kind share `transaction` (told apart by `type`, e.g.
`CustInvc`, `Journal`) with their lines in `transactionline`. The emulator derives those tables
from the records so a connector's SuiteQL is exercised against realistic shapes.

A query's filtered, sorted result is memoised per store generation, so paging through it with
`offset` costs one evaluation, not one per page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.common.memtable import MemTable, Record
from pssync.sandbox.netsuite.records import RECORD_TYPES, record_type
from pssync.sandbox.netsuite.sqlvalues import to_datetime
from pssync.sandbox.netsuite.suiteql import Operand, Query, Row, SuiteQLError, parse

MAX_RESULTS = 100_000
DATETIME_COLUMNS = frozenset(("lastmodifieddate", "datecreated", "createddate"))
OUTPUT_DATETIME = "%Y-%m-%d %H:%M:%S"
_TRANSACTION_TYPES = {
    t.name: t.transaction_code for t in RECORD_TYPES.values() if t.transaction_code
}


def flatten(record: Record) -> Row:
    """One record as an analytics row: lowercase columns, references as IDs, T/F checkboxes."""
    row: Row = {}
    for key, value in record.items():
        if key == "links" or isinstance(value, list):
            continue
        name = key.lower()
        if isinstance(value, dict):
            if "items" in value:
                continue  # sublists live in their own table
            value = value.get("id")
        elif isinstance(value, bool):
            value = "T" if value else "F"
        elif name in DATETIME_COLUMNS:
            value = to_datetime(value)
        row[name] = value
    return row


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, 0)
    if isinstance(value, dt.datetime):
        return (0, value.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    text = str(value)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


class SuiteQLEngine:
    """Runs parsed SuiteQL against the tables derived from a MemTable."""

    def __init__(self, table: MemTable) -> None:
        self.table = table

    def rows(self, name: str) -> list[Row]:
        return self.table.memo(("suiteql-table", name), lambda: self._build_table(name))

    def _build_table(self, name: str) -> list[Row]:
        if name == "transaction":
            rows = []
            for type_name, code in _TRANSACTION_TYPES.items():
                for record in self.table.values(type_name):
                    rows.append({**flatten(record), "type": code, "recordtype": type_name})
            return rows
        if name == "transactionline":
            return self._lines()
        if name in _TRANSACTION_TYPES:
            raise SuiteQLError(
                f"Invalid search query: record '{name}' was not found; "
                "transactions are queried from the 'transaction' table"
            )
        if record_type(name) is None and not self.table.count(name):
            raise SuiteQLError(f"Invalid search query: record '{name}' was not found")
        return [flatten(record) for record in self.table.values(name)]

    def _lines(self) -> list[Row]:
        rows: list[Row] = []
        for type_name in _TRANSACTION_TYPES:
            spec = RECORD_TYPES[type_name]
            for record in self.table.values(type_name):
                for sublist in spec.sublists:
                    items = (record.get(sublist) or {}).get("items") or []
                    for number, line in enumerate(items, start=1):
                        row = flatten(line)
                        row.update(
                            transaction=record["id"],
                            linesequencenumber=number,
                            id=number,
                            mainline="F",
                        )
                        rows.append(row)
        return rows

    def execute(self, text: str) -> tuple[Query, list[Row]]:
        """(parsed query, all matching rows in order); memoised per generation."""
        normalized = " ".join(text.split())
        return self.table.memo(("suiteql", normalized), lambda: self._run(normalized))

    def _run(self, text: str) -> tuple[Query, list[Row]]:
        query = parse(text)
        rows = self.rows(query.table)
        where = query.where
        rows = [row for row in rows if where(row)] if where is not None else list(rows)
        for value, descending in reversed(query.order):  # stable sorts, last key first

            def key(row: Row, value: Operand = value) -> tuple[int, Any]:
                return _sort_key(value(row))

            rows.sort(key=key, reverse=descending)
        return query, rows[:MAX_RESULTS]


def project(query: Query, row: Row) -> dict[str, Any]:
    """The output item for one row: selected columns, nulls omitted (as NetSuite does)."""
    if query.columns is None:
        pairs = list(row.items())
    else:
        pairs = [(label, value(row)) for value, label in query.columns]
    item: dict[str, Any] = {"links": []}
    for label, value in pairs:
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).strftime(OUTPUT_DATETIME)
        elif not isinstance(value, str | int | float | bool):
            value = str(value)
        item[label] = value
    return item
