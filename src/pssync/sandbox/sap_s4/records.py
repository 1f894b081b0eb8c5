"""What SAP does to a record on the way in: numbering, GUIDs, derived names, change stamps.

Creates and updates from clients and rows seeded from the synthetic firm go through the same
preparation, so a seeded partner looks exactly like one created over the API. Every write
refreshes the change stamps (``LastChangeDateTime``; for business partners SAP's
``LastChangeDate`` + ``LastChangeTime`` pair), which is what incremental reads filter on.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from pssync.sandbox.common.objects import ObjectStore
from pssync.sandbox.sap_s4.errors import ODataError
from pssync.sandbox.sap_s4.schema import EntitySet
from pssync.sandbox.sap_s4.values import EdmValueError, normalize, to_wire_datetime, to_wire_time

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
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.store = store
        self.user = user
        self.clock = clock

    def all(self, entity_set: EntitySet) -> list[Record]:
        return list(self.store.all(entity_set.name))

    def get(self, entity_set: EntitySet, key: Record) -> Record | None:
        return self.store.get(entity_set.name, record_id(entity_set, key))

    def create(self, entity_set: EntitySet, body: Record) -> Record:
        if not entity_set.creatable:
            raise ODataError(405, f"Entity set {entity_set.name} does not support creation")
        record = self._accept(entity_set, body, lambda p: p.creatable)
        for name in entity_set.required:
            if record.get(name) in (None, ""):
                raise ODataError(400, f"Property {name} is mandatory", target=name)
        self._derive(entity_set, record, creating=True)
        if self.get(entity_set, record) is not None:
            raise ODataError(400, f"{entity_set.label} {record_id(entity_set, record)} exists")
        self._save(entity_set, record)
        return record

    def update(self, entity_set: EntitySet, key: Record, body: Record, *, replace: bool) -> Record:
        if not entity_set.updatable:
            raise ODataError(405, f"Entity set {entity_set.name} does not support updates")
        current = self.get(entity_set, key)
        if current is None:
            raise ODataError(404, f"Resource not found for segment '{entity_set.type_name}'")
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
        if not self.store.delete(entity_set.name, record_id(entity_set, key), self.clock()):
            raise ODataError(404, f"Resource not found for segment '{entity_set.type_name}'")

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
        self.store.put(entity_set.name, record_id(entity_set, record), record, self.clock())

    def _next_number(self, entity_set: EntitySet, field: str, width: int) -> str:
        numbers = [
            int(r[field])
            for r in self.store.all(entity_set.name, include_deleted=True)
            if str(r.get(field) or "").isdigit()
        ]
        return str(max(numbers, default=_NUMBER_START[field] - 1) + 1).zfill(width)

    def _derive(
        self, entity_set: EntitySet, record: Record, *, creating: bool, keep_stamps: bool = False
    ) -> None:
        now = self.clock()
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
            record.setdefault("Customer", record["BusinessPartner"])
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
                for r in self.store.all(entity_set.name)
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
        project = self.store.get("A_EnterpriseProject", str(record.get("ProjectUUID")))
        if project is None:
            raise ODataError(
                400, f"Project {record.get('ProjectUUID')} does not exist", target="ProjectUUID"
            )
