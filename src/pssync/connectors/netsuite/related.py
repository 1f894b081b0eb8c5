"""What a record needs from other tables before the engine can map it (one query per table
and page, never one per record).

Each object whose canonical record spans several NetSuite tables reads them for a whole page:

- journals: their lines from ``transactionline`` (entity, memo, segments) joined with
  ``transactionaccountingline`` on (transaction, line ID), which holds account, debit and credit
  (primary accounting book, posting lines), in one query; the amount is the sum of the debits.
- sales orders (contract lines): the type and in-arrears flag of the billing schedule that
  bills them, which decide the revenue method.
- billing schedules: the sales order they bill and the bills they generate (the recurrence
  list: first and last bill date, first bill's amount).
- project milestones: their line on a Fixed Bid Milestone billing schedule (amount, date,
  completed and when: `milestoneActualCompletionDate`) and the sales order that schedule
  bills. A milestone task on no schedule (a plain
  project milestone) is not a billing milestone, and a task that is one is not a WBS element:
  each object leaves the other's records out (marked `SKIP`).
- customer payments: the invoice they were applied to (``previoustransactionlink``, link type
  Payment; a payment applied to several invoices is attributed to the largest application).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.connectors.netsuite.objects import DATE_MODEL, id_sort_key, plain_line, stamp_of

SKIP = "__pssync_skip"  # set on a record that belongs to another object of the connector
QueryAll = Callable[[str], list[dict[str, Any]]]
Data = dict[str, Any]


def _ids(values: list[Any]) -> str:
    unique = dict.fromkeys(str(v) for v in values if v not in (None, ""))
    return ", ".join(id_sort_key(v) for v in unique)


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else 0))
    except InvalidOperation:
        return Decimal(0)


def _flag(value: Any) -> bool:
    return value in ("T", True, "true")


def completed_on(data: Data) -> dt.datetime | None:
    """The day a billing milestone was completed (its schedule line's actual completion)."""
    day = data.get("milestoneActualCompletionDate") if data.get("milestoneCompleted") else None
    if not day:
        return None
    return dt.datetime.combine(dt.date.fromisoformat(str(day)[:10]), dt.time(), dt.UTC)


def state_stamp(data: Data) -> dt.datetime | None:
    """When the record's state last changed: its own stamp, or the day its billing schedule
    line completed it when that is later (completing a milestone is saved on the schedule and
    leaves the task's lastModifiedDate as it was)."""
    own, done = stamp_of(data), completed_on(data)
    return own if own is None or done is None else max(own, done)


def before_completion(data: Data) -> Data | None:
    """A completed billing milestone as it was before its completion, or None."""
    if completed_on(data) is None:
        return None
    return {**data, "milestoneCompleted": False, "milestoneActualCompletionDate": None}


class Related:
    """Adds the related fields to a page of plain records, in place."""

    def __init__(
        self, query_all: QueryAll, accounting_book: int, currencies: dict[str, str]
    ) -> None:
        self.query_all = query_all
        self.book = accounting_book
        self.currencies = currencies

    def add(self, kind: str, records: list[Data]) -> None:
        if records:
            getattr(self, kind)(records)

    def journal(self, journals: list[Data]) -> None:
        ids = _ids([j["id"] for j in journals])
        rows = self.query_all(
            "SELECT tl.transaction, tl.id, tl.entity, tl.memo, tl.department, tl.class, "
            "tal.account, tal.debit, tal.credit FROM transactionline tl "
            "INNER JOIN transactionaccountingline tal ON tal.transaction = tl.transaction "
            f"AND tal.transactionline = tl.id WHERE tl.transaction IN ({ids}) "
            f"AND tal.accountingbook = {self.book} AND tal.posting = 'T' "
            "ORDER BY tl.transaction, tl.linesequencenumber"
        )
        lines: dict[str, list[Data]] = {}
        for row in rows:
            lines.setdefault(str(row.get("transaction")), []).append(plain_line(row))
        for journal in journals:
            own = lines.get(str(journal["id"]), [])
            journal["line"] = own
            debit = sum((decimal(line.get("debit")) for line in own), Decimal(0))
            journal["amount"] = format(debit, "f")
            tagged = [line["entity"] for line in own if line.get("entity")]
            journal["project"] = journal.get("custbody_project") or (tagged[0] if tagged else None)

    def salesorder(self, orders: list[Data]) -> None:
        ids = _ids([o.get("billingSchedule") for o in orders])
        schedules = {
            str(row["id"]): row
            for row in (
                self.query_all(
                    "SELECT id, scheduletype, frequency, inarrears FROM billingschedule "
                    f"WHERE id IN ({ids})"
                )
                if ids
                else []
            )
        }
        for order in orders:
            schedule = schedules.get(str(order.get("billingSchedule")), {})
            order["billingScheduleType"] = schedule.get("scheduletype")
            order["billingFrequency"] = schedule.get("frequency")
            order["billingInArrears"] = _flag(schedule.get("inarrears"))

    def _orders_by_schedule(self, schedule_ids: list[Any]) -> dict[str, Data]:
        ids = _ids(schedule_ids)
        if not ids:
            return {}
        rows = self.query_all(
            "SELECT id, billingschedule, currency FROM transaction "
            f"WHERE type = 'SalesOrd' AND billingschedule IN ({ids}) ORDER BY id"
        )
        found: dict[str, Data] = {}
        for row in rows:
            found.setdefault(str(row.get("billingschedule")), row)
        return found

    def _order_fields(self, record: Data, order: Data | None) -> None:
        record["salesOrder"] = str(order["id"]) if order else None
        currency = str(order.get("currency")) if order else None
        record["currencyCode"] = self.currencies.get(currency or "")

    def schedule(self, schedules: list[Data]) -> None:
        ids = _ids([s["id"] for s in schedules])
        orders = self._orders_by_schedule([s["id"] for s in schedules])
        bills: dict[str, list[Data]] = {}
        for row in self.query_all(
            f"SELECT billingschedule, id, TO_CHAR(recurrencedate, '{DATE_MODEL}') AS "
            f"recurrencedate, amount FROM billingschedulerecurrence WHERE billingschedule IN "
            f"({ids}) ORDER BY billingschedule, id"
        ):
            bills.setdefault(str(row.get("billingschedule")), []).append(row)
        for schedule in schedules:
            self._order_fields(schedule, orders.get(str(schedule["id"])))
            own = sorted(bills.get(str(schedule["id"]), []), key=lambda r: r["recurrencedate"])
            schedule["firstBillDate"] = own[0]["recurrencedate"] if own else None
            schedule["lastBillDate"] = own[-1]["recurrencedate"] if own else None
            schedule["firstBillAmount"] = format(decimal(own[0]["amount"]), "f") if own else None

    def _milestone_lines(self, tasks: list[Data]) -> dict[str, Data]:
        ids = _ids([t["id"] for t in tasks])
        return {
            str(row.get("projecttask")): row
            for row in self.query_all(
                f"SELECT billingschedule, id, projecttask, TO_CHAR(milestonedate, '{DATE_MODEL}') "
                "AS milestonedate, milestoneamount, milestonecompleted, "
                f"TO_CHAR(milestoneactualcompletiondate, '{DATE_MODEL}') AS "
                "milestoneactualcompletiondate FROM "
                f"billingschedulemilestone WHERE projecttask IN ({ids})"
            )
        }

    def task(self, tasks: list[Data]) -> None:
        milestones = [t for t in tasks if t.get("isMilestone")]
        lines = self._milestone_lines(milestones) if milestones else {}
        for task in tasks:
            if str(task["id"]) in lines:
                task[SKIP] = True  # a billing milestone (projecttask_milestone)

    def milestone(self, tasks: list[Data]) -> None:
        lines = self._milestone_lines(tasks)
        orders = self._orders_by_schedule([row.get("billingschedule") for row in lines.values()])
        for task in tasks:
            line = lines.get(str(task["id"]))
            if line is None:
                task[SKIP] = True  # a project milestone nothing bills: not a billing milestone
            order = orders.get(str(line.get("billingschedule"))) if line else None
            self._order_fields(task, order)
            task["milestoneDate"] = line.get("milestonedate") if line else None
            amount = line.get("milestoneamount") if line else None
            task["milestoneAmount"] = None if amount is None else format(decimal(amount), "f")
            task["milestoneCompleted"] = _flag(line.get("milestonecompleted")) if line else False
            task["milestoneActualCompletionDate"] = (
                line.get("milestoneactualcompletiondate") if line else None
            )

    def payment(self, payments: list[Data]) -> None:
        ids = _ids([p["id"] for p in payments])
        applied: dict[str, tuple[Decimal, str]] = {}
        for row in self.query_all(
            "SELECT previousdoc, nextdoc, foreignamount FROM previoustransactionlink "
            f"WHERE linktype = 'Payment' AND nextdoc IN ({ids})"
        ):
            key, amount = str(row.get("nextdoc")), decimal(row.get("foreignamount"))
            if key not in applied or amount > applied[key][0]:
                applied[key] = (amount, str(row.get("previousdoc")))
        for payment in payments:
            found = applied.get(str(payment["id"]))
            payment["invoice"] = found[1] if found else None
