"""Kantata object operations: IDs, `created_at`/`updated_at`, parent checks, filtered lists.

Kantata maintains `created_at` and `updated_at` itself; `updated_after` on every list endpoint
is what a polling connector reads changes by. Stored stamps keep microseconds so that a change
made in the same second as a client's high-water mark is returned again rather than lost;
responses show seconds, as Kantata does.

Lists follow Kantata's documented parameters: ``only``, the ``*_after``/``*_before`` windows,
``order`` ("Supply order with the name of a valid sort field for the endpoint and a direction",
e.g. ``updated_at:asc``; the default here is ID order), the per-type filters of `objects.SPECS`,
``external_reference_*`` (see `references`), and for workspaces ``include_archived=true`` /
``archived=include|only|exclude`` ("By default, archived projects are not returned",
https://developer.kantata.com/kantata/specification/workspaces/get-workspaces). Custom field
values exist only for the subjects Kantata lists (`objects.CUSTOM_FIELD_SUBJECTS`).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Mapping
from typing import Any

from pssync.sandbox.common.memtable import MemTable, utcnow
from pssync.sandbox.kantata import custom_fields, references
from pssync.sandbox.kantata.errors import KantataError
from pssync.sandbox.kantata.objects import (
    CUSTOM_FIELD_SUBJECTS,
    REFERENCES,
    SPECS,
    ObjectSpec,
    Record,
    ValidationProblem,
    validate,
)

SERVER_FIELDS = ("id", "created_at", "updated_at", *REFERENCES)
ORDERS = ("id", "created_at", "updated_at")
NESTED = "external_reference"


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_time(text: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise KantataError(400, f"{name} must be an ISO 8601 datetime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _order(text: str | None) -> tuple[str, bool]:
    """(column, descending) of an ``order`` parameter such as ``updated_at:asc``."""
    if not text:
        return "id", False
    column, _, direction = text.partition(":")
    direction = direction or "asc"
    if column not in ORDERS or direction not in ("asc", "desc"):
        raise KantataError(400, f"{text!r} is not a valid order; valid orders: {', '.join(ORDERS)}")
    return column, direction == "desc"


def _archived_mode(params: Mapping[str, str]) -> str:
    """exclude (the default), include or only: from ``include_archived`` or ``archived``."""
    if str(params.get("include_archived", "")).lower() == "true":
        return "include"
    mode = params.get("archived", "exclude")
    if mode not in ("exclude", "include", "only"):
        raise KantataError(400, "archived must be one of only, exclude, include")
    return mode


def _time_window(param: str, bound: dt.datetime) -> Any:
    """A test for `updated_after`-style filters (strictly after / strictly before)."""
    column = param.split("_")[0] + "_at"
    if param.endswith("_after"):
        return lambda r: parse_time(r[column], column) > bound
    return lambda r: parse_time(r[column], column) < bound


@functools.lru_cache(maxsize=65536)
def canonical(text: str) -> str:
    """A client- or seed-given timestamp in stored form; cached, as seeds repeat stamps a lot."""
    return stamp(parse_time(text, "timestamp"))


class KantataService:
    """CRUD and list queries for the Kantata object types over a MemTable."""

    def __init__(self, table: MemTable) -> None:
        self.table = table
        self._lock = threading.RLock()
        self._next_id: dict[str, int] = {}

    def spec(self, key: str) -> ObjectSpec:
        spec = SPECS.get(key)
        if spec is None:
            raise KantataError(404, f"No route matches /api/v1/{key}.json")
        return spec

    def get(self, spec: ObjectSpec, record_id: str) -> Record:
        record = self.table.get(spec.key, record_id)
        if record is None:
            raise KantataError(404, f"{spec.singular.replace('_', ' ').title()} not found")
        return record

    def create(self, spec: ObjectSpec, body: Record) -> Record:
        if not spec.writable:
            raise KantataError(403, f"{spec.key} cannot be created through the API")
        self._check(spec, body, creating=True)
        link = self._nested(spec, body)
        with self._lock:
            now = utcnow()
            record = {**spec.defaults, **self._inherited(spec, body), **self._clean(body)}
            record.update(id=str(self._allocate(spec.key)), created_at=stamp(now))
            record["updated_at"] = stamp(now)
            if link is not None:  # first: no reader ever sees the object without it
                self._link(spec, record["id"], link, now, new_subject=True)
            self.table.put(spec.key, record, now)
            return record

    def update(self, spec: ObjectSpec, record_id: str, body: Record) -> Record:
        if not spec.writable:
            raise KantataError(403, f"{spec.key} cannot be updated through the API")
        with self._lock:
            current = self.get(spec, record_id)
            self._check(spec, body, creating=False)
            link = self._nested(spec, body)
            now = utcnow()
            record = {**current, **self._clean(body), "updated_at": stamp(now)}
            self.table.put(spec.key, record, now)
            if link is not None:
                self._link(spec, record_id, link, now)
            return record

    def create_or_update_reference(self, body: Any) -> Record:
        """``POST /external_references/create_or_update``: the subject must exist."""
        fields = references.check(body)
        with self._lock:
            subject = self.spec(references.SUBJECT_KEYS[fields["subject_type"]])
            if self.table.get(subject.key, str(fields["subject_id"])) is None:
                problem = ValidationProblem("subject_id", "Subject does not exist")
                raise KantataError(422, problem.message, problems=[problem])
            return references.upsert(self.table, fields, utcnow(), stamp, self._allocate)

    def custom_field_value_ids(self, spec: ObjectSpec, record_id: str) -> list[str]:
        return custom_fields.value_ids(self.table, spec.subject_type, record_id)

    def reference_ids(self, spec: ObjectSpec, record_id: str) -> list[str]:
        if not spec.subject_type:
            return []
        return references.reference_ids(self.table, spec.subject_type, record_id)

    def _nested(self, spec: ObjectSpec, body: Record) -> Record | None:
        """The checked `external_reference` of a create/update body, if it has one."""
        if body.get(NESTED) is None:
            return None
        if not spec.subject_type or spec.key == references.KEY:
            problem = ValidationProblem(NESTED, f"{spec.key} take no external reference")
            raise KantataError(422, problem.message, problems=[problem])
        link = body[NESTED] if isinstance(body[NESTED], dict) else None
        probe = {**(link or {}), "subject_type": spec.subject_type, "subject_id": "0"}
        references.check(probe if link is not None else body[NESTED])
        return dict(link or {})

    def _seeded(self, spec: ObjectSpec, record: Record, link: Record) -> Record:
        ref = {**references.SPEC.defaults, **link, "id": str(self._allocate(references.KEY))}
        ref.update(subject_type=spec.subject_type, subject_id=record["id"])
        ref["created_at"] = ref["updated_at"] = ref["last_synced_at"] = record["updated_at"]
        return ref

    def _link(
        self,
        spec: ObjectSpec,
        record_id: str,
        link: Record,
        now: dt.datetime,
        *,
        new_subject: bool = False,
    ) -> None:
        fields = {**link, "subject_type": spec.subject_type, "subject_id": record_id}
        references.upsert(self.table, fields, now, stamp, self._allocate, new_subject=new_subject)

    def delete(self, spec: ObjectSpec, record_id: str) -> None:
        self.get(spec, record_id)
        if not spec.writable:
            raise KantataError(403, f"{spec.key} cannot be deleted through the API")
        with self._lock:  # its external references go with it
            for ref_id in self.reference_ids(spec, record_id):
                self.table.delete(references.KEY, ref_id)
            self.table.delete(spec.key, record_id)

    def seed(self, key: str, rows: list[Record]) -> None:
        spec = self.spec(key)
        now = stamp(utcnow())
        with self._lock:
            self._allocate(key)  # the counter exists from here on; seeded IDs lift it below
            records, links, custom = [], [], []
            for row in rows:
                record = {**spec.defaults, **row}
                links += [(record, link) for link in record.pop("external_references", None) or []]
                custom.append((record, record.pop(custom_fields.NESTED, None) or []))
                record_id = record["id"] = str(record.get("id") or self._allocate(key))
                if record_id.isdigit() and int(record_id) >= self._next_id[key]:
                    self._next_id[key] = int(record_id) + 1
                record["updated_at"] = canonical(record.get("updated_at") or now)
                record["created_at"] = canonical(record.get("created_at") or record["updated_at"])
                records.append(record)
            self.table.put_many(key, records)
            if links:  # the firm's own integrations (e.g. the deal in the CRM)
                self.table.put_many(references.KEY, [self._seeded(spec, r, x) for r, x in links])
            values = [(r, v) for r, v in custom if v]
            if values:  # the fields the firm defined (a WBS code on a task)
                fields = custom_fields.field_ids(self.table)
                self.table.put_many(
                    custom_fields.KEY,
                    [
                        row
                        for record, nested in values
                        for row in custom_fields.seeded(
                            self.table, spec.subject_type, record, nested, fields, self._allocate
                        )
                    ],
                )

    def query(self, spec: ObjectSpec, params: Mapping[str, str]) -> list[Record]:
        """Records matching the list filters, in the asked order; memoised per generation."""
        skip = ("page", "per_page", "include")
        relevant = tuple(sorted((k, v) for k, v in params.items() if k not in skip))
        self._required(spec, params)
        order = _order(params.get("order"))
        return self.table.memo(
            ("kantata", spec.key, relevant), lambda: self._filter(spec, params, order)
        )

    @staticmethod
    def _required(spec: ObjectSpec, params: Mapping[str, str]) -> None:
        """Kantata's required list parameters: `subject_type` for custom field values (one of
        the custom-field subjects) and external references."""
        subject = params.get("subject_type")
        if spec.key == references.KEY and not subject:
            raise KantataError(400, "subject_type is required")
        if spec.key == "custom_field_values" and subject not in CUSTOM_FIELD_SUBJECTS:
            allowed = ", ".join(CUSTOM_FIELD_SUBJECTS)
            raise KantataError(400, f"subject_type must be one of {allowed}; got {subject!r}")

    def _filter(
        self, spec: ObjectSpec, params: Mapping[str, str], order: tuple[str, bool]
    ) -> list[Record]:
        tests: list[Any] = []
        if spec.archivable:
            archived = _archived_mode(params)
            if archived != "include":
                tests.append(lambda r, only=archived == "only": bool(r.get("archived")) is only)
        if spec.subject_type and any(p in params for p in references.FILTERS):
            linked = references.subjects_matching(self.table, spec.subject_type, params)
            tests.append(lambda r: r["id"] in linked)
        if "only" in params:
            wanted = set(params["only"].split(","))
            tests.append(lambda r: r["id"] in wanted)
        for name in ("updated_after", "created_after", "updated_before", "created_before"):
            if name in params:
                tests.append(_time_window(name, parse_time(params[name], name)))
        for param, column in spec.filters.items():
            if param in params:
                allowed = {v.strip().lower() for v in params[param].split(",")}
                tests.append(lambda r, c=column, ok=allowed: str(r.get(c)).lower() in ok)
        for param, column in spec.list_filters.items():
            if param in params:
                allowed = set(params[param].split(","))
                tests.append(
                    lambda r, c=column, ok=allowed: bool(ok & {str(v) for v in r.get(c) or []})
                )
        rows = [r for r in self.table.values(spec.key) if all(test(r) for test in tests)]
        rows.sort(key=lambda r: (0, int(r["id"])) if r["id"].isdigit() else (1, r["id"]))
        column, descending = order
        if column != "id":  # a stable sort: ties stay in ID order
            rows.sort(key=lambda r: str(r.get(column) or ""), reverse=descending)
        elif descending:
            rows.reverse()
        return rows

    def _check(self, spec: ObjectSpec, body: Record, *, creating: bool) -> None:
        problems = validate(spec, body, creating=creating)
        subject = body.get("subject_type")
        if spec.key == "custom_field_values" and subject not in (None, *CUSTOM_FIELD_SUBJECTS):
            problems.append(
                ValidationProblem(
                    "subject_type",
                    f"Subject type {subject} cannot have custom field values "
                    f"(allowed: {', '.join(CUSTOM_FIELD_SUBJECTS)})",
                )
            )
        for name, target in spec.parents.items():
            value = body.get(name)
            if value not in (None, "") and self.table.get(target, str(value)) is None:
                problems.append(
                    ValidationProblem(
                        name,
                        f"{name.removesuffix('_id').replace('_', ' ').capitalize()} does not exist",
                    )
                )
        if problems:
            raise KantataError(422, problems[0].message, problems=problems)

    def _inherited(self, spec: ObjectSpec, body: Record) -> Record:
        """Fields the server copies from a parent, e.g. an allocation's workspace and user."""
        copied: Record = {}
        for parent_field, names in spec.inherits.items():
            parent = self.table.get(spec.parents[parent_field], str(body.get(parent_field)))
            copied.update({n: parent[n] for n in names if parent and parent.get(n) is not None})
        return copied

    @staticmethod
    def _clean(body: Record) -> Record:
        return {
            k: str(v) if k.endswith("_id") and v is not None else v
            for k, v in body.items()
            if k not in SERVER_FIELDS and k != NESTED
        }

    def _allocate(self, key: str) -> int:
        if key not in self._next_id:
            ids = [int(r["id"]) for r in self.table.values(key) if str(r["id"]).isdigit()]
            self._next_id[key] = max(ids, default=0) + 1
        value = self._next_id[key]
        self._next_id[key] = value + 1
        return value
