"""Kantata object operations: IDs, `created_at`/`updated_at`, parent checks, filtered lists.

Kantata maintains `created_at` and `updated_at` itself; `updated_after` on every list endpoint
is what a polling connector reads changes by. Stored stamps keep microseconds so that a change
made in the same second as a client's high-water mark is returned again rather than lost;
responses show seconds, as Kantata does.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Mapping
from typing import Any

from pssync.sandbox.common.memtable import MemTable, utcnow
from pssync.sandbox.kantata.errors import KantataError
from pssync.sandbox.kantata.objects import SPECS, ObjectSpec, Record, ValidationProblem, validate

SERVER_FIELDS = ("id", "created_at", "updated_at")


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def parse_time(text: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise KantataError(400, f"{name} must be an ISO 8601 datetime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


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
        with self._lock:
            now = utcnow()
            record = {**spec.defaults, **self._inherited(spec, body), **self._clean(body)}
            record.update(id=str(self._allocate(spec.key)), created_at=stamp(now))
            record["updated_at"] = stamp(now)
            self.table.put(spec.key, record, now)
            return record

    def update(self, spec: ObjectSpec, record_id: str, body: Record) -> Record:
        if not spec.writable:
            raise KantataError(403, f"{spec.key} cannot be updated through the API")
        with self._lock:
            current = self.get(spec, record_id)
            self._check(spec, body, creating=False)
            now = utcnow()
            record = {**current, **self._clean(body), "updated_at": stamp(now)}
            self.table.put(spec.key, record, now)
            return record

    def delete(self, spec: ObjectSpec, record_id: str) -> None:
        self.get(spec, record_id)
        if not spec.writable:
            raise KantataError(403, f"{spec.key} cannot be deleted through the API")
        self.table.delete(spec.key, record_id)

    def seed(self, key: str, rows: list[Record]) -> None:
        spec = self.spec(key)
        now = stamp(utcnow())
        with self._lock:
            self._allocate(key)  # the counter exists from here on; seeded IDs lift it below
            records = []
            for row in rows:
                record = {**spec.defaults, **row}
                record_id = record["id"] = str(record.get("id") or self._allocate(key))
                if record_id.isdigit() and int(record_id) >= self._next_id[key]:
                    self._next_id[key] = int(record_id) + 1
                record["updated_at"] = canonical(record.get("updated_at") or now)
                record["created_at"] = canonical(record.get("created_at") or record["updated_at"])
                records.append(record)
            self.table.put_many(key, records)

    def query(self, spec: ObjectSpec, params: Mapping[str, str]) -> list[Record]:
        """Records matching the list filters, ordered by ID; memoised per store generation."""
        relevant = tuple(sorted((k, v) for k, v in params.items() if k not in ("page", "per_page")))
        return self.table.memo(("kantata", spec.key, relevant), lambda: self._filter(spec, params))

    def _filter(self, spec: ObjectSpec, params: Mapping[str, str]) -> list[Record]:
        tests: list[Any] = []
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
        return rows

    def _check(self, spec: ObjectSpec, body: Record, *, creating: bool) -> None:
        problems = validate(spec, body, creating=creating)
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
            if k not in SERVER_FIELDS
        }

    def _allocate(self, key: str) -> int:
        if key not in self._next_id:
            ids = [int(r["id"]) for r in self.table.values(key) if str(r["id"]).isdigit()]
            self._next_id[key] = max(ids, default=0) + 1
        value = self._next_id[key]
        self._next_id[key] = value + 1
        return value
