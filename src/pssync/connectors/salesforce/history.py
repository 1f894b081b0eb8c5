"""Dated changes of opportunities from Salesforce's own field history.

Object Reference, "OpportunityFieldHistory": with field history tracking on, Salesforce keeps
one row per change of a tracked field (``Field``, ``OldValue``, ``NewValue``, ``CreatedDate``,
``CreatedById``), and a ``created`` row when the record is created. Reading it lets a first sync
learn each deal's stage, amount and close date *as they were* on each business date (valid time)
instead of only as they are today. The rows are read with one SOQL query (paged 2,000 a call);
``Field`` is filtered to the fields pssync forecasts from. A change's values are typed as the
canonical model types them (Decimal amounts, dates), with the stage as Salesforce names it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pssync.connectors.salesforce.soql import datetime_literal, in_list, select
from pssync.mapping.convert import to_datetime

OBJECT = "OpportunityFieldHistory"
STAGE_HISTORY = "OpportunityHistory"
# OpportunityHistory columns -> canonical field (its snapshot of each save).
SNAPSHOT = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date"}
# Salesforce field -> canonical Opportunity field.
FIELDS = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date"}


@dataclass(frozen=True)
class DatedChange:
    """One change of one field of one record, at the moment Salesforce recorded it."""

    record_id: str  # the Opportunity's Salesforce ID
    field: str  # canonical name: stage, amount or close_date ("created" for a new record)
    old: Any
    new: Any
    changed_at: dt.datetime
    change_id: str  # the OpportunityFieldHistory row's ID
    changed_by: str | None = None


def typed(field: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if field == "amount":
        return Decimal(str(value))
    if field == "close_date":
        return dt.date.fromisoformat(str(value)[:10])
    return value


def read(
    query: Callable[[str], list[dict[str, Any]]], since: dt.datetime | None = None
) -> list[DatedChange]:
    """Every tracked change (and creation) since `since`, oldest first."""
    wanted = in_list(["created", *FIELDS])
    where = f"Field IN {wanted}"
    if since is not None:
        where += f" AND CreatedDate >= {datetime_literal(since)}"
    soql = select(
        OBJECT,
        ["Id", "OpportunityId", "Field", "OldValue", "NewValue", "CreatedDate", "CreatedById"],
        where=where,
        order_by=["CreatedDate", "Id"],
    )
    out: list[DatedChange] = []
    for row in query(soql):
        field = FIELDS.get(str(row["Field"]), str(row["Field"]))
        out.append(
            DatedChange(
                record_id=str(row["OpportunityId"]),
                field=field,
                old=typed(field, row.get("OldValue")),
                new=typed(field, row.get("NewValue")),
                changed_at=to_datetime(row["CreatedDate"]),
                change_id=str(row["Id"]),
                changed_by=row.get("CreatedById"),
            )
        )
    return out


def read_snapshots(
    query: Callable[[str], list[dict[str, Any]]], since: dt.datetime | None = None
) -> list[DatedChange]:
    """The same changes from OpportunityHistory, for an org that does not track field history
    (Object Reference, "OpportunityHistory": a snapshot of stage, amount, probability and
    close date at each save, with PrevAmount and PrevCloseDate). Consecutive snapshots of a
    deal are compared; the first snapshot read is its creation when `since` is None, else it
    is compared with PrevAmount/PrevCloseDate (the stage before it is not in the row)."""
    where = None if since is None else f"CreatedDate >= {datetime_literal(since)}"
    soql = select(
        STAGE_HISTORY,
        ["Id", "OpportunityId", *SNAPSHOT, "PrevAmount", "PrevCloseDate", "CreatedDate",
         "CreatedById"],
        where=where,
        order_by=["CreatedDate", "Id"],
    )  # fmt: skip
    last: dict[str, dict[str, Any]] = {}
    out: list[DatedChange] = []
    for row in query(soql):
        deal = str(row["OpportunityId"])
        before = last.get(deal)
        at, by = to_datetime(row["CreatedDate"]), row.get("CreatedById")
        if before is None and since is None:
            out.append(DatedChange(deal, "created", None, None, at, str(row["Id"]), by))
        elif before is None:
            before = {"Amount": row.get("PrevAmount"), "CloseDate": row.get("PrevCloseDate")}
        for column, field in SNAPSHOT.items():
            if before is not None and column in before and before[column] != row.get(column):
                old, new = typed(field, before[column]), typed(field, row.get(column))
                out.append(DatedChange(deal, field, old, new, at, str(row["Id"]), by))
        last[deal] = row
    return out
