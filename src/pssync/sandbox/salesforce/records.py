"""Record writes with the platform's side effects: system fields, derived fields, history, cascades.

Every write path (single-record resources, collections, composite, upsert) goes through this
class, so a record saved by any route looks the same: server-maintained CreatedDate,
LastModifiedDate and SystemModstamp, an owner, Opportunity stage semantics and history rows,
line-item roll-ups onto the opportunity, and cascade deletes of children.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pssync.sandbox.salesforce import opportunity, validate
from pssync.sandbox.salesforce.catalog import CASCADES, Catalog
from pssync.sandbox.salesforce.data import Record, Txn
from pssync.sandbox.salesforce.errors import SalesforceError, not_found
from pssync.sandbox.salesforce.ids import IdFactory, is_valid_id, to18
from pssync.sandbox.salesforce.locks import RowLocks
from pssync.sandbox.salesforce.schema import ObjectDef
from pssync.sandbox.salesforce.timefmt import format_datetime

_DEFAULT_ACTIVE = {"Product2": False, "Pricebook2": False, "PricebookEntry": False, "User": True}


class Records:
    def __init__(self, catalog: Catalog, ids: IdFactory, clock: Callable[[], dt.datetime]) -> None:
        self.catalog = catalog
        self.ids = ids
        self.clock = clock
        self.user_id = ""  # the integration user every write is attributed to
        self.stages = opportunity.StageTable()
        self.locks = RowLocks()  # injected UNABLE_TO_LOCK_ROW (see `locks`)

    def objdef(self, name: str) -> ObjectDef:
        obj = self.catalog.get(name)
        if obj is None:
            raise not_found()
        return obj

    def _lookup(self, name: str | None) -> ObjectDef:
        return self.objdef(name or "")

    def stamp(self) -> str:
        return format_datetime(self.clock())

    # -- reads ------------------------------------------------------------------------------

    def get(self, txn: Txn, obj: ObjectDef, record_id: str) -> Record:
        if not is_valid_id(record_id) or not record_id.startswith(obj.key_prefix):
            raise not_found(
                f"Provided external ID field does not exist or is not accessible: {record_id}"
            )
        record = txn.get(obj.name, to18(record_id))
        if record is None:
            raise not_found()
        if record.get("IsDeleted"):
            raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    def find_external(self, txn: Txn, obj: ObjectDef, field: str, value: str) -> list[str]:
        f = obj.field(field)
        if f is None or not (f.external_id or f.name == "Id"):
            raise not_found(
                f"Provided external ID field does not exist or is not accessible: {field}"
            )
        if f.name == "Id":
            try:
                return [self.get(txn, obj, value)["Id"]]
            except SalesforceError:
                return []
        return sorted(txn.find(obj.name, f.name, value))

    # -- writes -----------------------------------------------------------------------------

    def create(self, txn: Txn, obj: ObjectDef, body: dict[str, Any]) -> str:
        if not obj.createable:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support insert"
            )
        changes = validate.clean(obj, body, creating=True, txn=txn, catalog_get=self._lookup)
        now = self.stamp()
        record: Record = {
            "Id": self._new_id(txn, obj),
            "IsDeleted": False,
            "CreatedDate": now,
            "CreatedById": self.user_id,
            "LastModifiedDate": now,
            "LastModifiedById": self.user_id,
            "SystemModstamp": now,
        }
        if obj.field("OwnerId") is not None:
            record["OwnerId"] = self.user_id
        if obj.name in _DEFAULT_ACTIVE:
            record["IsActive"] = _DEFAULT_ACTIVE[obj.name]
        for f in obj.fields:
            record.setdefault(f.name, None)
        if obj.field("LastModifiedDate") is None:
            record.pop("LastModifiedDate")
            record.pop("LastModifiedById")
        record.update(changes)
        self._save(txn, obj, record, None, changes)
        return str(record["Id"])

    def update(self, txn: Txn, obj: ObjectDef, record_id: str, body: dict[str, Any]) -> str:
        old = self.get(txn, obj, record_id)
        if "Id" in body and body["Id"] is not None and to18(str(body["Id"])) != old["Id"]:
            raise SalesforceError(
                400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Id in the body does not match the URL"
            )
        changes = validate.clean(obj, body, creating=False, txn=txn, catalog_get=self._lookup)
        record = {**old, **changes}
        now = self.stamp()
        record.update(LastModifiedDate=now, LastModifiedById=self.user_id, SystemModstamp=now)
        self._save(txn, obj, record, old, changes)
        return str(record["Id"])

    def upsert(
        self, txn: Txn, obj: ObjectDef, field: str, value: str, body: dict[str, Any]
    ) -> tuple[str, bool]:
        """(id, created); 300 MULTIPLE_CHOICES lists the matching records' URLs."""
        matches = self.find_external(txn, obj, field, value)
        if len(matches) > 1:
            raise MultipleMatchesError(obj.name, matches)
        if matches:
            return self.update(txn, obj, matches[0], body), False
        f = obj.field(field)
        if f is not None and f.name == "Id":
            raise not_found()
        key = f.name if f is not None else field
        return self.create(txn, obj, {**body, key: value}), True

    def delete(self, txn: Txn, obj: ObjectDef, record_id: str) -> None:
        if not obj.deletable:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support delete"
            )
        old = self.get(txn, obj, record_id)
        self._delete(txn, obj, old)

    def _delete(self, txn: Txn, obj: ObjectDef, old: Record) -> None:
        now = self.stamp()
        txn.put(obj.name, {**old, "IsDeleted": True, "SystemModstamp": now})
        for parent, child in CASCADES:
            if parent != obj.name:
                continue
            child_obj = self.objdef(child)
            ref = next(
                f for f in child_obj.fields if f.reference_to == parent and f.name != "OwnerId"
            )
            for child_id in sorted(txn.find(child, ref.name, old["Id"])):
                child_record = txn.get(child, child_id)
                if child_record is not None:
                    self._delete(txn, child_obj, child_record)
        if obj.name == "OpportunityLineItem":
            self._roll_up(txn, old["OpportunityId"])

    # -- internals --------------------------------------------------------------------------

    def _new_id(self, txn: Txn, obj: ObjectDef) -> str:
        while True:
            candidate = self.ids.new(obj.key_prefix)
            if txn.get(obj.name, candidate) is None:
                return candidate

    def _save(
        self, txn: Txn, obj: ObjectDef, record: Record, old: Record | None, changes: Record
    ) -> None:
        self.locks.check(obj.name, str(record["Id"]))
        if obj.name in ("Contact", "User"):
            record["Name"] = " ".join(
                str(p) for p in (record.get("FirstName"), record.get("LastName")) if p
            )
        if obj.name == "OpportunityLineItem":
            self._price_line(txn, record, changes)
        validate.check_required(obj, record)
        if obj.name == "Opportunity":
            opportunity.derive(record, old, changes, self.stages)
        validate.check_unique(obj, record, txn)
        txn.put(obj.name, record)
        if obj.name == "Opportunity" and opportunity.history_needed(record, old):
            self._write_history(txn, opportunity.history_row(record, old))
        if obj.name == "Opportunity":
            for row in opportunity.field_history_rows(record, old):
                self._write_history(txn, row, "OpportunityFieldHistory")
        if obj.name == "OpportunityLineItem" and record.get("OpportunityId"):
            self._roll_up(txn, record["OpportunityId"])

    def _write_history(self, txn: Txn, row: Record, name: str = "OpportunityHistory") -> None:
        now = self.stamp()
        history = self.objdef(name)
        row.update(
            Id=self._new_id(txn, history),
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=self.user_id,
            SystemModstamp=now,
        )
        txn.put(history.name, row)

    def _price_line(self, txn: Txn, record: Record, changes: Record) -> None:
        quantity = record.get("Quantity")
        if quantity and "TotalPrice" in changes and "UnitPrice" not in changes:
            record["UnitPrice"] = round(float(record["TotalPrice"] or 0) / float(quantity), 2)
        elif quantity is not None and record.get("UnitPrice") is not None:
            discount = float(record.get("Discount") or 0)
            total = float(quantity) * float(record["UnitPrice"]) * (1 - discount / 100)
            record["TotalPrice"] = round(total, 2)
        product = txn.get("Product2", record.get("Product2Id") or "")
        parent = txn.get("Opportunity", record.get("OpportunityId") or "")
        if parent is not None:
            name = product.get("Name") if product else None
            record["Name"] = f"{parent.get('Name')} {name}" if name else str(parent.get("Name"))

    def _roll_up(self, txn: Txn, opportunity_id: str) -> None:
        """An opportunity with products takes its Amount from their TotalPrice sum."""
        parent = txn.get("Opportunity", opportunity_id)
        if parent is None or parent.get("IsDeleted"):
            return
        items = [
            txn.get("OpportunityLineItem", i)
            for i in txn.find("OpportunityLineItem", "OpportunityId", opportunity_id)
        ]
        totals = [float(i.get("TotalPrice") or 0) for i in items if i is not None]
        has_items = bool(totals)
        amount = round(sum(totals), 2) if has_items else parent.get("Amount")
        if parent.get("HasOpportunityLineItem") == has_items and parent.get("Amount") == amount:
            return
        now = self.stamp()
        record = {**parent, "Amount": amount, "HasOpportunityLineItem": has_items}
        record.update(LastModifiedDate=now, SystemModstamp=now)
        opportunity.derive(record, parent, {"Amount": amount}, self.stages)
        txn.put("Opportunity", record)
        if opportunity.history_needed(record, parent):
            self._write_history(txn, opportunity.history_row(record, parent))
        for row in opportunity.field_history_rows(record, parent):
            self._write_history(txn, row, "OpportunityFieldHistory")


class MultipleMatchesError(SalesforceError):
    """Upsert or GET by external ID matched several records: HTTP 300 with their URLs."""

    def __init__(self, obj: str, ids: list[str]) -> None:
        super().__init__(300, "MULTIPLE_CHOICES", f"{len(ids)} records match")
        self.obj = obj
        self.ids = ids
