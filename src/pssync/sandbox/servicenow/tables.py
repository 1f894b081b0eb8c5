"""ServiceNow tables the emulator serves and the record bookkeeping the platform does itself.

Every record gets a 32-hex `sys_id`, `sys_created_on`/`sys_updated_on` (UTC, `YYYY-MM-DD
HH:MM:SS`), `sys_created_by`/`sys_updated_by`, `sys_mod_count`, and task tables a `number` from
their own sequence (INC0010001, ...). The Table API carries every value as a string (with
`sysparm_display_value=false`), so writes are stored as strings too.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from pssync.sandbox.common.memtable import MemTable, utcnow

Record = dict[str, Any]
SYSTEM_FIELDS = (
    "sys_id",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
)
# Fields of every task record; a new record has them all, those not given empty (ServiceNow docs,
# Table API POST: "fields that are not specified ... are set to the associated data type's null
# value").
TASK_FIELDS = (
    "short_description",
    "description",
    "category",
    "subcategory",
    "correlation_id",
    "correlation_display",
    "comments",
    "work_notes",
    "close_code",
    "close_notes",
    "contact_type",
    "parent",
    "caller_id",
    "assigned_to",
    "assignment_group",
    "opened_by",
    "problem_id",
    "cmdb_ci",
    "location",
    "company",
)
_TASK = dict.fromkeys(TASK_FIELDS, "")
# table -> (number prefix or None, defaults for a new record)
TABLES: dict[str, tuple[str | None, Record]] = {
    "incident": (
        "INC",
        {**_TASK, "state": "1", "impact": "3", "urgency": "3", "priority": "5", "active": "true"},
    ),
    "problem": ("PRB", {**_TASK, "state": "101", "active": "true"}),
    "change_request": ("CHG", {**_TASK, "state": "-5", "type": "normal", "active": "true"}),
    "sys_user": (None, {"active": "true"}),
    "sys_user_group": (None, {"active": "true"}),
}
FIRST_NUMBER = 10001
# The incident priority lookup of a base instance: (impact, urgency) -> priority.
PRIORITY = {
    ("1", "1"): "1", ("1", "2"): "2", ("1", "3"): "3",
    ("2", "1"): "2", ("2", "2"): "3", ("2", "3"): "4",
    ("3", "1"): "3", ("3", "2"): "4", ("3", "3"): "5",
}  # fmt: skip


def derive_priority(name: str, record: Record, body: Record) -> None:
    """An incident's priority follows its impact and urgency unless the caller set it."""
    if name == "incident" and "priority" not in body:
        key = (str(record.get("impact", "3")), str(record.get("urgency", "3")))
        record["priority"] = PRIORITY.get(key, record.get("priority", "5"))


def sn_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class TableService:
    """Create/update/delete with ServiceNow's system fields and number sequences."""

    def __init__(self, table: MemTable, user: str) -> None:
        self.table = table
        self.user = user
        self._lock = threading.Lock()
        self._numbers: dict[str, int] = {}

    def _next_number(self, name: str, prefix: str) -> str:
        if name not in self._numbers:
            used = [
                int(r["number"][len(prefix) :])
                for r in self.table.values(name)
                if str(r.get("number", "")).startswith(prefix)
                and r["number"][len(prefix) :].isdigit()
            ]
            self._numbers[name] = max(used, default=FIRST_NUMBER - 1) + 1
        value = self._numbers[name]
        self._numbers[name] = value + 1
        return f"{prefix}{value:07d}"

    def create(self, name: str, body: Record) -> Record:
        prefix, defaults = TABLES[name]
        now = utcnow()
        with self._lock:
            record = {**defaults, **{k: as_text(v) for k, v in body.items()}}
            derive_priority(name, record, body)
            for field in SYSTEM_FIELDS:
                record.pop(field, None)
            if prefix and not record.get("number"):
                record["number"] = self._next_number(name, prefix)
            record.update(
                sys_id=uuid.uuid4().hex,
                sys_created_on=sn_time(now),
                sys_created_by=self.user,
                sys_updated_on=sn_time(now),
                sys_updated_by=self.user,
                sys_mod_count="0",
            )
            self.table.put(name, {**record, "id": record["sys_id"]}, now)
        return record

    def update(self, name: str, current: Record, body: Record) -> Record:
        now = utcnow()
        changes = {k: as_text(v) for k, v in body.items() if k not in SYSTEM_FIELDS}
        with self._lock:
            record = {**current, **changes}
            derive_priority(name, record, body)
            record.update(
                sys_updated_on=sn_time(now),
                sys_updated_by=self.user,
                sys_mod_count=str(int(current.get("sys_mod_count", "0")) + 1),
            )
            self.table.put(name, {**record, "id": record["sys_id"]}, now)
        return record

    def seed(self, name: str, rows: list[Record]) -> None:
        prefix, defaults = TABLES[name]
        now = sn_time(utcnow())
        records = []
        with self._lock:
            for row in rows:
                record = {**defaults, **{k: as_text(v) for k, v in row.items()}}
                record.setdefault("sys_id", uuid.uuid4().hex)
                if prefix and not record.get("number"):
                    record["number"] = self._next_number(name, prefix)
                record.setdefault("sys_created_on", now)
                record.setdefault("sys_updated_on", record["sys_created_on"])
                record.setdefault("sys_created_by", self.user)
                record.setdefault("sys_updated_by", self.user)
                record.setdefault("sys_mod_count", "0")
                records.append({**record, "id": record["sys_id"]})
            self.table.put_many(name, records)
            self._numbers.pop(name, None)
