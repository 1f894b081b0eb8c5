"""Custom field values: what a firm keeps on Kantata objects in fields it defines itself.

Kantata documents them at https://developer.kantata.com/tag/Custom-Field-Values: a value names
its field (``custom_field_id``, ``custom_field_name``) and its subject (``subject_type``, one of
Estimate, Story (Task), User, Workspace (Project), WorkspaceGroup (Group), Resource, and
``subject_id``), and holds ``value`` of the field's ``type``. Listing them needs
``subject_type``; a subject's own response names them (``custom_field_value_ids``) and
side-loads them with ``include=custom_field_values``, as Kantata's Response Format describes
for every association.

The sandbox firm seeds its values nested in an object's row, ``custom_field_values: [{"name":
"WBS Code", "value": "PRJ-US01-00001.1"}]``; seeding a row again (the activity clock's upsert)
updates each value in place rather than adding a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pssync.sandbox.common.memtable import MemTable
from pssync.sandbox.kantata.objects import CUSTOM_FIELD_SUBJECTS, Record

KEY = "custom_field_values"
NESTED = "custom_field_values"
Index = dict[tuple[str, str], list[str]]


def index(table: MemTable) -> Index:
    """(subject_type, subject_id) -> value IDs; rebuilt once per store generation."""

    def build() -> Index:
        out: Index = {}
        for value in table.values(KEY):
            out.setdefault((value["subject_type"], str(value["subject_id"])), []).append(
                value["id"]
            )
        for ids in out.values():
            ids.sort(key=int)
        return out

    return table.memo(("kantata", "custom-field-value-index"), build)


def value_ids(table: MemTable, subject_type: str, record_id: str) -> list[str]:
    if subject_type not in CUSTOM_FIELD_SUBJECTS:
        return []
    return list(index(table).get((subject_type, record_id), []))


def field_ids(table: MemTable) -> dict[tuple[str, str], str]:
    """(subject_type, field name) -> the custom field's ID, as the stored values name them."""
    return {
        (v["subject_type"], v["custom_field_name"]): v["custom_field_id"] for v in table.values(KEY)
    }


def seeded(
    table: MemTable,
    subject_type: str,
    record: Record,
    values: list[dict[str, Any]],
    fields: dict[tuple[str, str], str],
    allocate: Callable[[str], int],
) -> list[Record]:
    """The value records of a seeded row's nested values: existing ones updated (same field
    on the same subject), new ones numbered; `fields` gains each new field's ID."""
    current = {
        found["custom_field_name"]: found
        for found in (table.get(KEY, i) for i in value_ids(table, subject_type, record["id"]))
        if found is not None
    }
    out = []
    for value in values:
        name = str(value["name"])
        field_id = fields.setdefault((subject_type, name), str(allocate("custom_fields")))
        known = current.get(name)
        row = {
            "id": known["id"] if known else str(allocate(KEY)),
            "custom_field_id": field_id,
            "custom_field_name": name,
            "subject_type": subject_type,
            "subject_id": record["id"],
            "type": value.get("type", "string"),
            "value": value["value"],
            "created_at": known["created_at"] if known else record["created_at"],
            "updated_at": record["updated_at"],
        }
        out.append(row)
    return out
