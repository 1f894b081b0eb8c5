"""Record operations behind the REST record API: IDs, external IDs, stamps, references.

NetSuite assigns numeric internal IDs per record type, keeps `externalId` unique per type (the
key that makes `PUT .../eid:{externalId}` an idempotent upsert), and maintains
`lastModifiedDate` itself, which is what incremental SuiteQL reads filter on. References may be
given by internal or external ID; a reference to a record that does not exist is refused, the
way a NetSuite form refuses an invalid select value.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from typing import Any

from pssync.sandbox.common.memtable import MemTable, Record, utcnow
from pssync.sandbox.netsuite.errors import NetSuiteError
from pssync.sandbox.netsuite.records import RecordType, record_type, validate

SERVER_FIELDS = ("id", "lastModifiedDate", "dateCreated", "createdDate", "links")
EID_PREFIX = "eid:"


def stamp(moment: dt.datetime) -> str:
    """Stored form of a server timestamp: UTC, microseconds, `Z` (rendered to seconds)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=65536)
def canonical(text: str) -> str:
    """A given timestamp in stored form; cached, as seeded views repeat stamps a lot."""
    return stamp(parse_stamp(text))


class RecordService:
    """Create, read, update, upsert and delete NetSuite records over a MemTable."""

    def __init__(self, table: MemTable) -> None:
        self.table = table
        self._lock = threading.RLock()
        self._next_id: dict[str, int] = {}
        self._eids: dict[str, dict[str, str]] = {}

    # -- lookups -------------------------------------------------------------------------

    def spec(self, type_name: str) -> RecordType:
        spec = record_type(type_name)
        if spec is None and self.table.count(type_name.lower()):
            spec = RecordType(type_name.lower())
        if spec is None:
            raise NetSuiteError(
                404, f"Record type '{type_name}' does not exist.", code="INVALID_RCRD_TYPE"
            )
        return spec

    def _eid_index(self, type_name: str) -> dict[str, str]:
        index = self._eids.get(type_name)
        if index is None:
            index = {
                str(r["externalId"]): str(r["id"])
                for r in self.table.values(type_name)
                if r.get("externalId")
            }
            self._eids[type_name] = index
        return index

    def resolve(self, type_name: str, key: str) -> str | None:
        """Internal ID for `key` (an internal ID or `eid:<externalId>`), if the record exists."""
        with self._lock:
            if key.startswith(EID_PREFIX):
                return self._eid_index(type_name).get(key[len(EID_PREFIX) :])
            return key if self.table.get(type_name, key) is not None else None

    def get(self, type_name: str, key: str) -> Record:
        record_id = self.resolve(type_name, key)
        record = self.table.get(type_name, record_id) if record_id else None
        if record is None:
            raise NetSuiteError(404, "Record does not exist.", code="NONEXISTENT_ID")
        return record

    # -- writes --------------------------------------------------------------------------

    def create(self, spec: RecordType, body: Record, *, external_id: str | None = None) -> str:
        if "id" in body:
            raise NetSuiteError(400, "The field id is read-only.", path="id")
        validate(spec, body, creating=True, one_world=self.table.count("subsidiary") > 0)
        with self._lock:
            eid = external_id or body.get("externalId")
            if eid and eid in self._eid_index(spec.name):
                raise NetSuiteError(
                    400, f"A record with external ID {eid} already exists.", path="externalId"
                )
            record = self._resolved(spec, body)
            record_id = str(self._allocate(spec.name))
            now = utcnow()
            record.update({"id": record_id, spec.created_field: stamp(now)})
            if eid:
                record["externalId"] = str(eid)
            self._write(spec, record, now)
            return record_id

    def update(self, spec: RecordType, key: str, body: Record) -> str:
        with self._lock:
            current = self.get(spec.name, key)
            if "id" in body and str(body["id"]) != current["id"]:
                raise NetSuiteError(400, "The field id is read-only.", path="id")
            validate(spec, body, creating=False)
            changes = self._resolved(spec, body)
            new_eid = changes.get("externalId")
            owner = self._eid_index(spec.name).get(str(new_eid)) if new_eid else None
            if owner not in (None, current["id"]):
                raise NetSuiteError(
                    400, f"A record with external ID {new_eid} already exists.", path="externalId"
                )
            record = {**current, **changes}
            for name in [k for k, v in changes.items() if v is None]:
                del record[name]  # PATCH with null clears a field
            self._write(spec, record, utcnow(), previous_eid=current.get("externalId"))
            return str(current["id"])

    def upsert(self, spec: RecordType, external_id: str, body: Record) -> tuple[str, bool]:
        """PUT eid: update the record with this external ID, or create it. (id, created)."""
        with self._lock:
            record_id = self._eid_index(spec.name).get(external_id)
            if record_id is None:
                return self.create(spec, body, external_id=external_id), True
            if "id" in body:
                raise NetSuiteError(400, "The field id is read-only.", path="id")
            return self.update(spec, record_id, {**body, "externalId": external_id}), False

    def delete(self, spec: RecordType, key: str) -> None:
        with self._lock:
            current = self.get(spec.name, key)
            self.table.delete(spec.name, str(current["id"]))
            if current.get("externalId"):
                self._eid_index(spec.name).pop(str(current["externalId"]), None)

    def seed(self, type_name: str, rows: list[Record]) -> None:
        """Bulk load records already in wire shape; server fields are filled where absent."""
        spec = record_type(type_name) or RecordType(type_name.lower())
        now = stamp(utcnow())
        with self._lock:
            self._allocate(spec.name)  # the counter exists from here on; seeded IDs lift it
            records: list[Record] = []
            for row in rows:
                record = dict(row)
                for name in spec.sublists:  # accept bare line lists; store NetSuite's shape
                    if isinstance(record.get(name), list):
                        record[name] = {"items": record[name]}
                record["id"] = str(record.get("id") or self._allocate(spec.name))
                if record["id"].isdigit() and int(record["id"]) >= self._next_id[spec.name]:
                    self._next_id[spec.name] = int(record["id"]) + 1
                modified = record.get("lastModifiedDate")
                record["lastModifiedDate"] = canonical(modified) if modified else now
                record.setdefault(spec.created_field, record["lastModifiedDate"])
                records.append(record)
            self.table.put_many(spec.name, records)
            self._eids.pop(spec.name, None)

    # -- helpers -------------------------------------------------------------------------

    def _write(
        self, spec: RecordType, record: Record, now: dt.datetime, previous_eid: Any = None
    ) -> None:
        record["lastModifiedDate"] = stamp(now)
        self.table.put(spec.name, record, now)
        index = self._eid_index(spec.name)
        if previous_eid and previous_eid != record.get("externalId"):
            index.pop(str(previous_eid), None)
        if record.get("externalId"):
            index[str(record["externalId"])] = str(record["id"])

    def _allocate(self, type_name: str) -> int:
        if type_name not in self._next_id:
            ids = [int(r["id"]) for r in self.table.values(type_name) if str(r["id"]).isdigit()]
            self._next_id[type_name] = max(ids, default=100) + 1
        value = self._next_id[type_name]
        self._next_id[type_name] = value + 1
        return value

    def _resolved(self, spec: RecordType, body: Record) -> Record:
        """A copy of `body` without server fields, with references resolved to internal IDs."""
        record = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
        for name, targets in spec.references.items():
            if isinstance(record.get(name), dict):
                record[name] = self._reference(record[name], targets, name)
        for name, sub in spec.sublists.items():
            if isinstance(record.get(name), dict):
                lines = [dict(line) for line in record[name]["items"]]
                for index, line in enumerate(lines):
                    for field_name, targets in sub.references.items():
                        if isinstance(line.get(field_name), dict):
                            path = f"{name}.items[{index}].{field_name}"
                            line[field_name] = self._reference(line[field_name], targets, path)
                record[name] = {"items": lines}
        return record

    def _reference(self, ref: Record, targets: tuple[str, ...], path: str) -> Record:
        """Resolve `{"externalId": x}` and check that the target exists (when that type is
        populated at all, so unseeded lookup lists do not block creates)."""
        populated = [t for t in targets if self.table.count(t)]
        if not populated:
            return {"id": str(ref["id"])} if ref.get("id") else dict(ref)
        for target in populated:
            key = str(ref["id"]) if ref.get("id") else EID_PREFIX + str(ref["externalId"])
            found = self.resolve(target, key)
            if found:
                return {"id": found}
        raise NetSuiteError(
            400,
            f"Invalid Field Value {ref.get('id') or ref.get('externalId')} for the following "
            f"field: {path}",
            path=path,
        )
