"""External references: which third-party record a Kantata object is synced with.

Kantata documents them at https://developer.kantata.com/tag/External-References: objects with
``subject_type``/``subject_id`` naming the Kantata object and ``service_name``,
``service_model``, ``service_model_ref`` naming the external one, listed by
``GET /external_references`` (``subject_type`` required) and written by
``POST /external_references/create_or_update``, or nested as ``external_reference`` in an
object's own create or update (the attribute Kantata's client specification lists among each
object's create and update attributes). Every object then shows ``external_reference_ids``
and lists filter by ``external_reference_service_name`` / ``_service_model`` /
``_service_model_ref``, as Kantata integrations query it (``GET /stories?
external_reference_service_name=github&external_reference_service_model_ref=42``).

Create-or-update keys a reference by its subject and its ``service_name`` + ``service_model``:
the same call again moves that link to a new ``service_model_ref`` instead of adding a second.
A nested reference is stored in the same step as its object, so a create either leaves the
object with its reference or leaves nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pssync.sandbox.common.memtable import MemTable
from pssync.sandbox.kantata.errors import KantataError
from pssync.sandbox.kantata.objects import SPECS, Record, ValidationProblem, validate

KEY = "external_references"
SPEC = SPECS[KEY]
SUBJECT_KEYS = {s.subject_type: s.key for s in SPECS.values() if s.subject_type}
FILTERS = {
    "external_reference_service_name": "service_name",
    "external_reference_service_model": "service_model",
    "external_reference_service_model_ref": "service_model_ref",
}
Index = dict[tuple[str, str], list[str]]


def index(table: MemTable) -> Index:
    """(subject_type, subject_id) -> reference IDs; rebuilt once per store generation."""

    def build() -> Index:
        out: Index = {}
        for ref in table.values(KEY):
            out.setdefault((ref["subject_type"], str(ref["subject_id"])), []).append(ref["id"])
        for ids in out.values():
            ids.sort(key=int)
        return out

    return table.memo(("kantata", "external-reference-index"), build)


def reference_ids(table: MemTable, subject_type: str, record_id: str) -> list[str]:
    return list(index(table).get((subject_type, record_id), []))


def subjects_matching(table: MemTable, subject_type: str, params: Mapping[str, str]) -> set[str]:
    """IDs of `subject_type` objects with a reference matching every external_reference_*
    filter given (comma-separated values match any)."""
    wanted = {
        column: {v.strip() for v in params[param].split(",")}
        for param, column in FILTERS.items()
        if param in params
    }
    return {
        str(ref["subject_id"])
        for ref in table.values(KEY)
        if ref["subject_type"] == subject_type
        and all(str(ref.get(c)) in ok for c, ok in wanted.items())
    }


def check(body: Any, field_name: str = "external_reference") -> Record:
    """The fields of a reference body, or a 422 naming each missing one."""
    if not isinstance(body, dict):
        raise KantataError(
            422,
            f"{field_name} must be an object",
            problems=[ValidationProblem(field_name, f"{field_name} must be an object")],
        )
    problems = validate(SPEC, body, creating=True)
    if body.get("subject_type") and body["subject_type"] not in SUBJECT_KEYS:
        problems.append(
            ValidationProblem("subject_type", f"Subject type {body['subject_type']} is invalid")
        )
    if problems:
        raise KantataError(422, problems[0].message, problems=problems)
    return dict(body)


def upsert(
    table: MemTable,
    body: Record,
    now: dt.datetime,
    stamp: Any,
    next_id: Any,
    *,
    new_subject: bool = False,
) -> Record:
    """Create or update the reference of `body` (already checked; subject known to exist).
    `new_subject`: the subject is being created, so it has no reference to update yet."""
    fields = {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")}
    fields["subject_id"] = str(fields["subject_id"])
    existing = (
        []
        if new_subject
        else [
            table.get(KEY, i)
            for i in reference_ids(table, fields["subject_type"], fields["subject_id"])
        ]
    )
    same = [
        ref
        for ref in existing
        if ref is not None
        and ref["service_name"] == fields["service_name"]
        and ref["service_model"] == fields["service_model"]
    ]
    if same:
        record = {**same[0], **fields, "updated_at": stamp(now)}
    else:
        record = {**SPEC.defaults, **fields, "id": str(next_id(KEY))}
        record["created_at"] = record["updated_at"] = stamp(now)
    record.setdefault("last_synced_at", record["updated_at"])
    table.put(KEY, record, now)
    return record
