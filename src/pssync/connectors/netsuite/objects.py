"""The NetSuite objects the connector reads and writes, and how their SuiteQL rows look.

Reads go through SuiteQL, whose rows are not REST records: column names are lower case,
references are bare internal IDs, checkboxes are 'T'/'F' and null columns are left out. Dates
and datetimes come back as text in the account's display format (``3/14/2024``,
``3/14/2024 2:05 pm``: a user preference, not a wire format), so the connector never selects
``*``: `select_list` names each catalogue column and wraps every date in ``TO_CHAR(col,
'YYYY-MM-DD')`` and every datetime in ``TO_CHAR(col, 'YYYY-MM-DD"T"HH24:MI:SS')`` (in the
account's time zone, UTC for the integration role), as Oracle's TO_CHAR format models allow.
Each object lists its REST field names and kinds, so a row is handed to the engine under the
names a write uses (``companyName``, not ``companyname``), with references as internal IDs,
booleans as booleans, numbers as decimal strings and datetimes as ISO 8601.

Contract objects (sales orders, billing schedules, milestones, payments) are in `contracts`.
Journal entries are read twice over: `journalentry` (every journal) and the two views the
mapping turns into canonical records, `journalentry_cost` (cost postings -> CostActual) and
`journalentry_revenue` (revenue recognition -> RevenueEvent), told apart by a body field
(settings ``journal_kind_field``). Their records carry the lines, the journal `amount` (sum of
the debits) and the `project` (the body's ``custbody_project``, else the first line's entity).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.connectors.errors import PermanentError
from pssync.connectors.netsuite.catalog import (
    ENTITY,
    LINE_FIELDS,
    STAMP,
    TRANSACTION,
    Kind,
    NsObject,
)
from pssync.connectors.netsuite.contracts import contract_objects

__all__ = ["LINE_FIELDS", "OBJECTS", "STAMP", "Kind", "NsObject"]


def _objects() -> dict[str, NsObject]:
    journal_fields: dict[str, Kind] = {
        **TRANSACTION,
        "custbody_project": "ref",
        "amount": "number",
        "project": "ref",
    }
    computed = frozenset({"amount", "project", "line"})
    journal = "type = 'Journal'"
    items = [
        NsObject(
            "customer",
            "customer",
            "customer",
            {
                **ENTITY,
                "isPerson": "bool",
                "isInactive": "bool",
                "parent": "ref",
                "terms": "ref",
                "email": "text",
                "url": "text",
                "phone": "text",
            },
        ),
        NsObject(
            "job",
            "job",
            "job",
            {
                **ENTITY,
                "parent": "ref",
                "startDate": "date",
                "projectedEndDate": "date",
                "endDate": "date",
                "entityStatus": "ref",
                "jobType": "ref",
                "projectedTotalCost": "number",
                "estimatedRevenue": "number",
            },
        ),
        NsObject(
            "projecttask",
            "projecttask",
            "projecttask",
            {
                "id": "text",
                "externalId": "text",
                "title": "text",
                "company": "ref",
                "parent": "ref",
                "startDateTime": "datetime",
                "endDate": "date",
                "plannedWork": "number",
                "estimatedWork": "number",
                "actualWork": "number",
                "status": "ref",
                "isMilestone": "bool",
                # the firm's WBS code: a custom CRM field (custevent_*), which NetSuite applies
                # to project tasks; tasks have no code field of their own
                "custevent_wbs_code": "text",
                "createdDate": "datetime",
                STAMP: "datetime",
            },
            related="task",  # billing milestones are projecttask_milestone's
        ),
        NsObject(
            "timebill",
            "timebill",
            "timebill",
            {
                "id": "text",
                "externalId": "text",
                "employee": "ref",
                "customer": "ref",
                "caseTaskEvent": "ref",
                "hours": "number",
                "rate": "number",
                "tranDate": "date",
                "isBillable": "bool",
                "memo": "text",
                "createdDate": "datetime",
                STAMP: "datetime",
            },
        ),
        NsObject(
            "invoice",
            "invoice",
            "transaction",
            {
                **TRANSACTION,
                "entity": "ref",
                "job": "ref",
                "dueDate": "date",
                "subtotal": "number",
                "taxTotal": "number",
                "total": "number",
                "amountRemaining": "number",
                "status": "ref",
            },
            where="type = 'CustInvc'",
        ),
        NsObject(
            "journalentry",
            "journalentry",
            "transaction",
            journal_fields,
            journal,
            related="journal",
            computed=computed,
        ),
        *contract_objects(),
    ]
    for kind in ("cost", "revenue"):
        items.append(
            NsObject(
                f"journalentry_{kind}",
                "journalentry",
                "transaction",
                journal_fields,
                f"{journal} AND {{kind_field}} = '{kind}'",
                writable=False,
                related="journal",
                computed=computed,
            )
        )
    return {o.name: o for o in items}


OBJECTS = _objects()


def quote(value: Any) -> str:
    """A SuiteQL string literal (Oracle: a quote is doubled, nothing else is special)."""
    return "'" + str(value).replace("'", "''") + "'"


def number_text(value: Any) -> str | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return format(number.normalize(), "f") if number == number.to_integral_value() else str(number)


DATE_MODEL = "YYYY-MM-DD"
DATETIME_MODEL = 'YYYY-MM-DD"T"HH24:MI:SS'
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def column(name: str, kind: Kind | None) -> str:
    """One select-list entry: the column, dates formatted by TO_CHAR under their own name."""
    col = name.lower()
    if kind == "date":
        return f"TO_CHAR({col}, '{DATE_MODEL}') AS {col}"
    if kind == "datetime":
        return f"TO_CHAR({col}, '{DATETIME_MODEL}') AS {col}"
    return col


def select_list(obj: NsObject, extra: tuple[str, ...] = ()) -> str:
    """The explicit columns of `obj` (never ``*``: see the module docstring)."""
    names = [n for n in obj.fields if n not in obj.computed]
    names += [e for e in extra if e not in names]
    return ", ".join(column(n, obj.kind(n)) for n in names)


def from_row(value: Any, kind: Kind | None, tz: dt.tzinfo = dt.UTC) -> Any:
    """A SuiteQL value as the engine receives it; a date that is not in the TO_CHAR shape
    asked for raises ValueError (the caller names the record and field)."""
    if value is None:
        return None
    if kind == "bool":
        return value in ("T", True, "true")
    if kind == "number":
        return number_text(value) or value
    if kind == "ref":
        return str(value)
    if kind == "date":
        if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
            raise ValueError(f"expected a date formatted {DATE_MODEL}, got {value!r}")
        return value
    if kind == "datetime":
        if not isinstance(value, str) or not _DATETIME_TEXT.fullmatch(value):
            raise ValueError(f"expected a datetime formatted {DATETIME_MODEL}, got {value!r}")
        if tz is dt.UTC:
            return value + "+00:00"
        local = dt.datetime.fromisoformat(value).replace(tzinfo=tz)
        return local.astimezone(dt.UTC).isoformat()
    return value


def plain_row(
    obj: NsObject,
    row: dict[str, Any],
    currencies: dict[str, str] | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> dict[str, Any]:
    """A SuiteQL row under REST names; catalogue fields a row omits (nulls) are None. Rows
    with a currency gain `currencyCode` (ISO) from `currencies`, since SuiteQL gives the ID."""
    by_column = {name.lower(): name for name in obj.fields}
    out: dict[str, Any] = {name: None for name in obj.fields if name not in obj.computed}
    for col, value in row.items():
        if col in ("links", "type", "recordtype"):
            continue
        name = by_column.get(col, col)
        try:
            out[name] = from_row(value, obj.kind(name), tz)
        except ValueError as exc:
            raise PermanentError(
                f"{obj.name} {row.get('id')}: {name}: {exc}",
                system="netsuite",
                record_id=str(row.get("id")),
                field=name,
            ) from None
    if "currency" in obj.fields and currencies is not None:
        out["currencyCode"] = currencies.get(str(out.get("currency")))
    return out


def plain_line(row: dict[str, Any]) -> dict[str, Any]:
    by_column = {name.lower(): name for name in LINE_FIELDS}
    return {
        by_column.get(c, c): from_row(v, LINE_FIELDS.get(by_column.get(c, c)))
        for c, v in row.items()
        if c not in ("links", "transaction", "id", "mainline") and v is not None
    }


def stamp_of(data: dict[str, Any]) -> dt.datetime | None:
    value = data.get(STAMP)
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def id_sort_key(record_id: str) -> str:
    """The literal of an internal ID in a keyset condition (IDs are numbers in NetSuite)."""
    return record_id if record_id.isdigit() else quote(record_id)
