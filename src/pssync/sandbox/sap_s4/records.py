"""What SAP does to a record on the way in: numbering, GUIDs, derived names, change stamps.

Creates and updates from clients and rows seeded from the synthetic firm go through the same
preparation, so a seeded partner looks exactly like one created over the API. Every write
refreshes the change stamps (``LastChangeDateTime``; for business partners SAP's
``LastChangeDate`` + ``LastChangeTime`` pair), which is what incremental reads filter on and
what the Enterprise Project API's ETags are made of (see `etags`).

Writes inside `changeset()` are staged and reach the store only when the whole changeset
succeeds: a ``$batch`` changeset, and a deep insert, are all-or-nothing as in SAP Gateway.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pssync.sandbox.common import business_clock
from pssync.sandbox.common.objects import ObjectStore
from pssync.sandbox.sap_s4 import partners
from pssync.sandbox.sap_s4.errors import ODataError
from pssync.sandbox.sap_s4.roots import is_root, refuse_root_change, root_element
from pssync.sandbox.sap_s4.schema import EntitySet
from pssync.sandbox.sap_s4.values import (
    EdmValueError,
    normalize,
    parse_wire_datetime,
    to_wire_datetime,
    to_wire_time,
)

Record = dict[str, Any]
log = logging.getLogger(__name__)

# First numbers of SAP's internal number ranges for the objects we create.
_NUMBER_START = {"BusinessPartner": 1000000, "ProjectInternalID": 1, "WBSElementInternalID": 1}


def _updatable(entity_set: EntitySet, name: str) -> bool:
    prop = entity_set.prop(name)
    return prop is not None and prop.updatable and name not in entity_set.keys


def record_id(entity_set: EntitySet, values: Record) -> str:
    return "|".join(str(values.get(k)) for k in entity_set.keys)


class Repository:
    """Entity sets over the emulator's ObjectStore, with SAP's server-side write behaviour."""

    def __init__(
        self,
        store: ObjectStore,
        user: str,
        clock: Callable[[], dt.datetime] = business_clock.now,
    ) -> None:
        self.store = store
        self.user = user
        self.clock = clock
        # (entity set, id) -> (record, or None for a delete; when): writes of the open changeset
        self._staged: dict[tuple[str, str], tuple[Record | None, dt.datetime]] | None = None
        self._lock = threading.RLock()

    @contextmanager
    def changeset(self) -> Iterator[None]:
        """All writes inside reach the store together, or none does. Nested, it is a savepoint:
        a failure inside undoes only its own writes (a batch's failed changeset)."""
        with self._lock:
            if self._staged is not None:
                savepoint = dict(self._staged)
                try:
                    yield
                except BaseException:
                    self._staged = savepoint
                    raise
                return
            self._staged = {}
            try:
                yield
                staged = self._staged
            finally:
                self._staged = None
            # One transaction per entity set: a changeset costs one commit, not one per write.
            puts: dict[str, list[tuple[str, Record, dt.datetime]]] = {}
            for (name, rid), (record, when) in staged.items():
                if record is None:
                    self.store.delete(name, rid, when)
                else:
                    puts.setdefault(name, []).append((rid, record, when))
            for name, rows in puts.items():
                self.store.put_many(name, rows)

    def _stored(self, name: str, *, include_deleted: bool = False) -> list[Record]:
        """Stored rows of entity set `name`, seen through the open changeset's writes."""
        stored = list(self.store.all(name, include_deleted=include_deleted))
        staged = {rid: rec for (n, rid), (rec, _) in (self._staged or {}).items() if n == name}
        if not staged:
            return stored
        from pssync.sandbox.sap_s4.schema import service_of

        entity_set = service_of(name).entity_set(name)
        assert entity_set is not None
        rows = {record_id(entity_set, r): r for r in stored}
        for rid, record in staged.items():
            if record is not None:
                rows[rid] = record
            elif not include_deleted:
                rows.pop(rid, None)
        return list(rows.values())

    def all(self, entity_set: EntitySet) -> list[Record]:
        rows = self._stored(entity_set.name)
        if entity_set.name == "A_EnterpriseProjectElement":
            rows += [root_element(p) for p in self._stored("A_EnterpriseProject")]
        return rows

    def get(self, entity_set: EntitySet, key: Record) -> Record | None:
        rid = record_id(entity_set, key)
        if self._staged is not None and (entity_set.name, rid) in self._staged:
            staged = self._staged[(entity_set.name, rid)][0]
            return None if staged is None else dict(staged)  # a savepoint keeps the original
        found = self.store.get(entity_set.name, rid)
        if found is None and entity_set.name == "A_EnterpriseProjectElement":
            project = self._project(key.get("ProjectElementUUID"))
            found = None if project is None else root_element(project)
        return found

    def _project(self, project_uuid: Any) -> Record | None:
        rid = str(project_uuid)
        if self._staged is not None and ("A_EnterpriseProject", rid) in self._staged:
            return self._staged[("A_EnterpriseProject", rid)][0]
        return self.store.get("A_EnterpriseProject", rid)

    def related(self, entity_set: EntitySet, record: Record, nav_name: str) -> list[Record]:
        """The entities `record` reaches through navigation property `nav_name`."""
        from pssync.sandbox.sap_s4.schema import service_of

        nav = entity_set.nav(nav_name)
        if nav is None:
            raise ODataError(400, f"Property {nav_name} not found in type {entity_set.type_name}")
        target = service_of(nav.target).entity_set(nav.target)
        assert target is not None
        wanted = {theirs: record.get(ours) for ours, theirs in nav.on}
        if any(v in (None, "") for v in wanted.values()):
            return []
        return [r for r in self.all(target) if all(r.get(k) == v for k, v in wanted.items())]

    def create(self, entity_set: EntitySet, body: Record, *, internal: bool = False) -> Record:
        """Create one entity (with its deep-insert children); `internal` is SAP creating a
        dependent record itself (read-only properties and non-creatable sets allowed)."""
        if not entity_set.creatable and not internal:
            raise ODataError(405, f"Entity set {entity_set.name} does not support creation")
        nested = {n.name: body[n.name] for n in entity_set.navs if n.name in body}
        body = {k: v for k, v in body.items() if k not in nested}
        if nested and entity_set.name != "A_BusinessPartner":
            return self._create_deep(entity_set, body, nested)
        with self.changeset():
            writable = (lambda p: True) if internal else (lambda p: p.creatable)
            record = self._accept(entity_set, body, writable)
            for name in entity_set.required:
                if record.get(name) in (None, ""):
                    raise ODataError(400, f"Property {name} is mandatory", target=name)
            if entity_set.name == "A_BusinessPartner":
                partners.check_grouping(
                    record, numbered_by_caller=bool(record.get("BusinessPartner"))
                )
            self._derive(entity_set, record, creating=True)
            if self.get(entity_set, record) is not None:
                raise ODataError(400, f"{entity_set.label} {record_id(entity_set, record)} exists")
            inline = partners.create_dependents(self, record, nested) if nested else {}
            self._save(entity_set, record)
        return {**record, **inline}

    def _create_deep(self, entity_set: EntitySet, body: Record, nested: Record) -> Record:
        """A parent with its children (e.g. a project with its elements), all or nothing."""
        with self.changeset():
            record = self.create(entity_set, body)
            inline = {
                name: [self.create_related(entity_set, record, name, row) for row in rows]
                for name, value in nested.items()
                if (rows := partners.rows(value, name))
            }
        return {**record, **inline}

    def create_related(
        self, entity_set: EntitySet, parent: Record, nav_name: str, body: Record
    ) -> Record:
        """Create an entity through a navigation property (``POST Set(key)/to_X``): the
        properties that join it to its parent come from the parent."""
        from pssync.sandbox.sap_s4.schema import service_of

        nav = entity_set.nav(nav_name)
        if nav is None:
            raise ODataError(400, f"Property {nav_name} not found in type {entity_set.type_name}")
        target = service_of(nav.target).entity_set(nav.target)
        assert target is not None
        joined = {theirs: parent.get(ours) for ours, theirs in nav.on}
        return self.create(target, {**body, **joined})

    def update(self, entity_set: EntitySet, key: Record, body: Record, *, replace: bool) -> Record:
        if not entity_set.updatable:
            raise ODataError(405, f"Entity set {entity_set.name} does not support updates")
        current = self.get(entity_set, key)
        if current is None:
            raise ODataError(404, f"Resource not found for segment '{entity_set.type_name}'")
        if entity_set.name == "A_EnterpriseProjectElement" and is_root(current):
            raise refuse_root_change()
        return self.apply_update(entity_set, current, body, replace=replace)

    def apply_update(
        self, entity_set: EntitySet, current: Record, body: Record, *, replace: bool
    ) -> Record:
        """Apply a checked update (the caller found `current` and checked its If-Match)."""
        changes = self._accept(entity_set, body, lambda p: p.updatable)
        if replace:  # PUT: updatable properties absent from the body are cleared
            current = {k: v for k, v in current.items() if not _updatable(entity_set, k)}
        current.update({k: v for k, v in changes.items() if k not in entity_set.keys})
        self._derive(entity_set, current, creating=False)
        self._save(entity_set, current)
        return current

    def delete(self, entity_set: EntitySet, key: Record) -> None:
        if not entity_set.deletable:
            raise ODataError(405, f"Entity set {entity_set.name} does not support deletion")
        current = self.get(entity_set, key)
        if current is None:
            raise ODataError(404, f"Resource not found for segment '{entity_set.type_name}'")
        if entity_set.name == "A_EnterpriseProjectElement" and is_root(current):
            raise refuse_root_change()
        rid = record_id(entity_set, key)
        if self._staged is not None:
            self._staged[(entity_set.name, rid)] = (None, self.clock())
        else:
            self.store.delete(entity_set.name, rid, self.clock())

    def load(self, entity_set: EntitySet, rows: list[Record]) -> int:
        """Seed rows (vendor-shaped dicts); read-only properties are accepted as given."""
        for row in rows:
            known = {k: v for k, v in row.items() if entity_set.prop(k) is not None}
            if len(known) != len(row):
                log.debug("%s: ignoring undeclared %s", entity_set.name, set(row) - set(known))
            record = self._accept(entity_set, known, lambda p: True)
            self._derive(entity_set, record, creating=True, keep_stamps=True)
            self._save(entity_set, record)
        return len(rows)

    def _accept(
        self, entity_set: EntitySet, body: Record, writable: Callable[[Any], bool]
    ) -> Record:
        record: Record = {}
        for name, raw in body.items():
            if name == "__metadata":
                continue
            prop = entity_set.prop(name)
            if prop is None:
                raise ODataError(400, f"Property {name} is invalid for {entity_set.type_name}")
            if not writable(prop):
                continue  # SAP ignores values for read-only properties
            try:
                record[name] = normalize(prop, raw)
            except EdmValueError as exc:
                raise ODataError(400, str(exc), target=name) from exc
        return record

    def _save(self, entity_set: EntitySet, record: Record) -> None:
        rid = record_id(entity_set, record)
        if self._staged is not None:
            self._staged[(entity_set.name, rid)] = (record, self.clock())
        else:
            self.store.put(entity_set.name, rid, record, self.clock())

    def _next_number(self, entity_set: EntitySet, field: str, width: int) -> str:
        numbers = [
            int(r[field])
            for r in self._stored(entity_set.name, include_deleted=True)
            if str(r.get(field) or "").isdigit()
        ]
        return str(max(numbers, default=_NUMBER_START[field] - 1) + 1).zfill(width)

    def _derive(
        self, entity_set: EntitySet, record: Record, *, creating: bool, keep_stamps: bool = False
    ) -> None:
        now = self.clock()
        previous = record.get("LastChangeDateTime")
        if not creating and previous:  # a new stamp is a new ETag: never reuse the last one
            now = max(now, parse_wire_datetime(previous) + dt.timedelta(milliseconds=1))
        stamp = to_wire_datetime(now, offset=True)
        if entity_set.name == "A_BusinessPartner":
            self._derive_partner(entity_set, record, creating)
        elif entity_set.name == "A_EnterpriseProject":
            self._derive_project(entity_set, record, creating)
        elif entity_set.name == "A_EnterpriseProjectElement":
            self._derive_element(entity_set, record, creating)
        day = to_wire_datetime(now.replace(hour=0, minute=0, second=0, microsecond=0))
        stamps: Record = {
            "LastChangedByUser": self.user,
            "LastChangeDateTime": stamp,
            "ProjectLastChangedDateTime": stamp,
            "LastChangeDate": day,
            "LastChangeTime": to_wire_time(now),
        }
        if creating:
            stamps.update(
                {
                    "CreatedByUser": self.user,
                    "CreationDateTime": stamp,
                    "CreationDate": day,
                    "CreationTime": to_wire_time(now),
                }
            )
        for name, value in stamps.items():
            if entity_set.prop(name) is not None and not (keep_stamps and record.get(name)):
                record[name] = value

    def _derive_partner(self, entity_set: EntitySet, record: Record, creating: bool) -> None:
        if creating:
            if not record.get("BusinessPartner"):
                record["BusinessPartner"] = self._next_number(entity_set, "BusinessPartner", 0)
            record.setdefault("BusinessPartnerUUID", str(uuid.uuid4()))
        category = record.get("BusinessPartnerCategory")
        if category not in ("1", "2", "3"):
            raise ODataError(
                400, "BusinessPartnerCategory must be 1, 2 or 3", target="BusinessPartnerCategory"
            )
        if category == "1":
            if not record.get("LastName"):
                raise ODataError(400, "Enter a last name for a person", target="LastName")
            name = " ".join(filter(None, (record.get("FirstName"), record.get("LastName"))))
        else:
            if not record.get("OrganizationBPName1"):
                raise ODataError(
                    400, "Enter Name 1 for an organization", target="OrganizationBPName1"
                )
            name = " ".join(
                filter(None, (record.get("OrganizationBPName1"), record.get("OrganizationBPName2")))
            )
        record["BusinessPartnerFullName"] = record["BusinessPartnerName"] = name

    def _derive_project(self, entity_set: EntitySet, record: Record, creating: bool) -> None:
        if creating:
            record.setdefault("ProjectUUID", str(uuid.uuid4()))
            record.setdefault(
                "ProjectInternalID", self._next_number(entity_set, "ProjectInternalID", 8)
            )
            record.setdefault("ProcessingStatus", "00")
            duplicate = any(
                r.get("Project") == record.get("Project")
                and r["ProjectUUID"] != record["ProjectUUID"]
                for r in self._stored(entity_set.name)
            )
            if duplicate:
                raise ODataError(
                    400, f"Project {record.get('Project')} already exists", target="Project"
                )
        start, end = record.get("ProjectStartDate"), record.get("ProjectEndDate")
        if start and end and int(start[6:-2]) > int(end[6:-2]):
            raise ODataError(
                400, "Project end date is before its start date", target="ProjectEndDate"
            )

    def _derive_element(self, entity_set: EntitySet, record: Record, creating: bool) -> None:
        if not creating:
            return
        record.setdefault("ProjectElementUUID", str(uuid.uuid4()))
        record.setdefault(
            "WBSElementInternalID", self._next_number(entity_set, "WBSElementInternalID", 8)
        )
        record.setdefault("ProcessingStatus", "00")
        project = self._project(record.get("ProjectUUID"))
        if project is None:
            raise ODataError(
                400, f"Project {record.get('ProjectUUID')} does not exist", target="ProjectUUID"
            )
