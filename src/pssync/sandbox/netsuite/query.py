"""SuiteQL tables over the record store, and query execution with memoised results.

SuiteQL reads the analytics data source, whose shapes differ from REST records: column names
are lowercase, references are plain internal IDs, checkboxes are 'T'/'F', sublists are separate
tables, and transactions of every kind share `transaction` (told apart by `type`, e.g.
`CustInvc`, `Journal`) with their lines in `transactionline`. The emulator derives those tables
from the records so a connector's SuiteQL is exercised against realistic shapes.

Dates: records hold ISO text, the analytics tables hold dates (`tranDate`, ...) and datetimes
(`lastModifiedDate`, ...), and a result shows them as text in the account's display format
(Date Format / Time Format preferences, `datefmt.display`), which is what SuiteQL over REST
returns unless the query formats the column itself with TO_CHAR.

Amounts of posting transactions live in `transactionaccountingline` (one row per transaction
line and accounting book: `account`, `debit`, `credit`, `amount`, `posting`), joined to
`transactionline` on (`transaction`, `transactionline` = `transactionline.id`), as in NetSuite's
Records Catalog; `transactionline` itself carries no debit, credit or account.

A list record's sublists are tables of their own too, named record + sublist
(`billingschedulerecurrence`, `billingschedulemilestone`: one row per line, the parent's ID in
the record's column, the line number as `id`). A customer payment's applications are links
between two transactions, read from `previoustransactionlink` (`previousdoc` = the invoice,
`nextdoc` = the payment, `linktype` = 'Payment', `foreignamount` = the amount applied).

A query's filtered, sorted result is memoised per store generation, so paging through it with
`offset` costs one evaluation, not one per page.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pssync.sandbox.common.memtable import MemTable, Record
from pssync.sandbox.netsuite.datefmt import display
from pssync.sandbox.netsuite.records import RECORD_TYPES, record_type
from pssync.sandbox.netsuite.sqlvalues import to_datetime
from pssync.sandbox.netsuite.suiteql import Join, Operand, Query, Row, SuiteQLError, parse

MAX_RESULTS = 100_000
DATETIME_COLUMNS = frozenset(
    ("lastmodifieddate", "datecreated", "createddate", "startdatetime", "linelastmodifieddate")
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PRIMARY_BOOK = 1
# Line fields that live on TransactionAccountingLine, not TransactionLine.
ACCOUNTING_FIELDS = ("account", "debit", "credit")
_TRANSACTION_TYPES = {
    t.name: t.transaction_code for t in RECORD_TYPES.values() if t.transaction_code
}
SUBLIST_TABLES = {
    f"{t.name}{sub}": (t.name, sub)
    for t in RECORD_TYPES.values()
    if not t.transaction_code
    for sub in t.sublists
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
        elif isinstance(value, str) and len(value) == 10 and _ISO_DATE.fullmatch(value):
            value = dt.date.fromisoformat(value)
        row[name] = value
    return row


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, 0)
    if isinstance(value, dt.date):
        moment = to_datetime(value)
        assert moment is not None
        return (0, moment.timestamp())
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
            return [
                {k: v for k, v in row.items() if k not in ACCOUNTING_FIELDS}
                for row in self._lines()
            ]
        if name == "transactionaccountingline":
            return self._accounting_lines()
        if name == "previoustransactionlink":
            return self._payment_links()
        if name in SUBLIST_TABLES:
            return self._sublist(*SUBLIST_TABLES[name])
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

    def _sublist(self, type_name: str, sublist: str) -> list[Row]:
        rows: list[Row] = []
        for record in self.table.values(type_name):
            items = (record.get(sublist) or {}).get("items") or []
            for number, line in enumerate(items, start=1):
                rows.append({**flatten(line), type_name: record["id"], "id": number})
        return rows

    def _payment_links(self) -> list[Row]:
        rows: list[Row] = []
        for payment in self.table.values("customerpayment"):
            for line in (payment.get("apply") or {}).get("items") or []:
                doc = line.get("doc")
                rows.append(
                    {
                        "previousdoc": doc.get("id") if isinstance(doc, dict) else doc,
                        "previoustype": "CustInvc",
                        "nextdoc": payment["id"],
                        "nexttype": "CustPymt",
                        "linktype": "Payment",
                        "foreignamount": line.get("amount"),
                    }
                )
        return rows

    def _accounting_lines(self) -> list[Row]:
        """One row per transaction line in the primary book, posting lines only (journals);
        `amount` is debit minus credit, as NetSuite signs it."""
        rows: list[Row] = []
        for line in self._lines():
            if "debit" not in line and "credit" not in line:
                continue
            debit, credit = line.get("debit"), line.get("credit")
            amount = float(debit or 0) - float(credit or 0)
            rows.append(
                {
                    "transaction": line["transaction"],
                    "transactionline": line["id"],
                    "accountingbook": PRIMARY_BOOK,
                    "account": line.get("account"),
                    "debit": debit or None,
                    "credit": credit or None,
                    "amount": round(amount, 2),
                    "netamount": round(amount, 2),
                    "posting": "T",
                }
            )
        return rows

    def _join(self, rows: list[Row], join: Join) -> list[Row]:
        """A hash join on the ON columns (values compared as text: IDs are numbers in one table
        and text in another); a LEFT JOIN keeps unmatched rows with the joined columns null."""
        index, columns = self.table.memo(
            ("suiteql-join", join.table, join.alias, tuple(join.keys)), lambda: self._index(join)
        )
        out: list[Row] = []
        for left in rows:
            key = tuple(str(left.get(other)) for _, other in join.keys)
            matches = index.get(key) if None not in (left.get(o) for _, o in join.keys) else None
            if matches:
                for right in matches:
                    plain = {k.split(".", 1)[1]: v for k, v in right.items()}
                    out.append({**plain, **left, **right})
            elif join.outer:
                out.append({**left, **dict.fromkeys(columns)})
        return out

    def _index(self, join: Join) -> tuple[dict[tuple[str, ...], list[Row]], set[str]]:
        """The joined table's rows by their ON columns (memoised per store generation)."""
        index: dict[tuple[str, ...], list[Row]] = {}
        for right in self.rows(join.table):
            named = _qualified(join.alias, right)
            key = tuple(str(named.get(mine)) for mine, _ in join.keys)
            index.setdefault(key, []).append(named)
        columns = {k for found in index.values() for k in found[0]} if index else set()
        return index, columns

    def execute(self, text: str, tz: dt.tzinfo = dt.UTC) -> tuple[Query, list[Row]]:
        """(parsed query, all matching rows in order); memoised per generation."""
        normalized = " ".join(text.split())
        return self.table.memo(("suiteql", normalized, str(tz)), lambda: self._run(normalized, tz))

    def _run(self, text: str, tz: dt.tzinfo) -> tuple[Query, list[Row]]:
        query = parse(text, tz)
        rows = self.rows(query.table)
        if query.joins:
            early = query.early  # reads the first table only: its plain columns will do
            kept = rows if early is None else [row for row in rows if early(row)]
            rows = [{**row, **_qualified(query.alias, row)} for row in kept]
            for join in query.joins:
                rows = self._join(rows, join)
        where = query.where
        rows = [row for row in rows if where(row)] if where is not None else list(rows)
        for value, descending in reversed(query.order):  # stable sorts, last key first

            def key(row: Row, value: Operand = value) -> tuple[int, Any]:
                return _sort_key(value(row))

            rows.sort(key=key, reverse=descending)
        return query, rows[:MAX_RESULTS]


def _qualified(alias: str, row: Row) -> Row:
    return {f"{alias}.{k}": v for k, v in row.items()}


def project(
    query: Query,
    row: Row,
    date_format: str = "M/D/YYYY",
    time_format: str = "h:mm a",
    tz: dt.tzinfo = dt.UTC,
) -> dict[str, Any]:
    """The output item for one row: selected columns, nulls omitted (as NetSuite does), dates
    and datetimes in the account's display format."""
    if query.columns is None:
        pairs = list(row.items())
    else:
        pairs = [(label, value(row)) for value, label in query.columns]
    item: dict[str, Any] = {"links": []}
    for label, value in pairs:
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            value = display(value.astimezone(tz), date_format, time_format)
        elif isinstance(value, dt.date):
            value = display(value, date_format)
        elif not isinstance(value, str | int | float | bool):
            value = str(value)
        item[label] = value
    return item
