"""Reference fields and display values as the Table API returns them.

ServiceNow docs, REST API reference "Table API" (GET/POST/PATCH /now/table/{tableName}):
a reference field stores the referenced record's sys_id and, with the default
``sysparm_display_value=false``, comes back as ``{"link": ".../api/now/table/{target}/{sys_id}",
"value": sys_id}`` (an empty reference is ``""``); ``sysparm_exclude_reference_link=true`` drops
the link and leaves the sys_id string. ``sysparm_display_value=true`` returns display values
(a reference shows its record's display field, e.g. a group's name; a choice its label), and
``all`` returns ``{"display_value", "value"}`` for every field (plus ``link`` for references).
A reference whose sys_id matches no record shows an empty display value, as a broken reference
does on an instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Record = dict[str, Any]

# table -> field -> referenced table (the fields pssync and the docs' examples use)
_TASK_REFS = {
    "assignment_group": "sys_user_group",
    "assigned_to": "sys_user",
    "opened_by": "sys_user",
    "caller_id": "sys_user",
    "problem_id": "problem",
    "parent": "task",
    "cmdb_ci": "cmdb_ci",
    "location": "cmn_location",
    "company": "core_company",
    "sys_domain": "sys_user_group",
}
REFERENCES: dict[str, dict[str, str]] = {
    "incident": _TASK_REFS,
    "problem": _TASK_REFS,
    "change_request": _TASK_REFS,
    "sys_user": {"manager": "sys_user", "company": "core_company", "location": "cmn_location"},
    "sys_user_group": {"manager": "sys_user", "parent": "sys_user_group"},
}
DISPLAY_FIELD = {"sys_user": "name", "sys_user_group": "name"}  # others: number, then name
_LEVELS = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}
CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "incident": {
        "state": {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed"},
        "impact": _LEVELS,
        "urgency": _LEVELS,
        "priority": {
            "1": "1 - Critical",
            "2": "2 - High",
            "3": "3 - Moderate",
            "4": "4 - Low",
            "5": "5 - Planning",
        },
    },
}

Lookup = Callable[[str, str], Record | None]  # (table, sys_id) -> record


def display_of(table: str, record: Record) -> str:
    """A record's display value: its display field, else number, else name."""
    for name in (DISPLAY_FIELD.get(table), "number", "name"):
        if name and record.get(name):
            return str(record[name])
    return ""


class Renderer:
    """Renders stored records (all values strings, references as sys_ids) for one request."""

    def __init__(
        self, lookup: Lookup, base_url: str, display: str = "false", exclude_link: bool = False
    ) -> None:
        self.lookup = lookup
        self.base_url = base_url.rstrip("/")
        self.display = display.lower() if display.lower() in ("true", "all") else "false"
        self.exclude_link = exclude_link

    def record(self, table: str, record: Record, fields: list[str] | None = None) -> Record:
        # Fields never set read as their type's null value (ServiceNow docs, Table API POST).
        every = dict.fromkeys([*record, *REFERENCES.get(table, {})])
        names = fields or [name for name in every if name != "id"]
        return {name: self.value(table, name, str(record.get(name, ""))) for name in names}

    def value(self, table: str, field: str, raw: str) -> Any:
        target = REFERENCES.get(table, {}).get(field)
        if target is None:
            shown = CHOICES.get(table, {}).get(field, {}).get(raw, raw)
            if self.display == "true":
                return shown
            if self.display == "all":
                return {"display_value": shown, "value": raw}
            return raw
        if not raw:
            return {"display_value": "", "value": ""} if self.display == "all" else ""
        link = f"{self.base_url}/api/now/table/{target}/{raw}"
        referenced = self.lookup(target, raw)
        shown = display_of(target, referenced) if referenced is not None else ""
        if self.display == "true":
            return shown if self.exclude_link else {"display_value": shown, "link": link}
        if self.display == "all":
            out = {"display_value": shown, "value": raw}
            return out if self.exclude_link else {**out, "link": link}
        return raw if self.exclude_link else {"link": link, "value": raw}

    def resolve(self, table: str, body: Record, find: Callable[[str, str], str | None]) -> Record:
        """``sysparm_input_display_value=true``: reference values given as display values are
        stored as the sys_id of the record showing that value (unmatched ones stay as given)."""
        out = dict(body)
        for field, target in REFERENCES.get(table, {}).items():
            value = out.get(field)
            if isinstance(value, str) and value and self.lookup(target, value) is None:
                found = find(target, value)
                if found is not None:
                    out[field] = found
        return out
