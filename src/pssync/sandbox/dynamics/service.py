"""Dataverse row operations over the emulator's MemTable: create, update, upsert, delete, query.

- Create (POST to the entity set) assigns the primary key unless the body sets it, and the
  system columns ``createdon``, ``modifiedon`` (UTC, to the second, as the Web API shows them)
  and ``versionnumber`` (the row version behind ``@odata.etag``)
  ("Create a table row using the Web API",
  https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api).
- PATCH to a row, addressed by primary key or alternate key (``accounts(accountnumber='X')``,
  "Use an alternate key to reference a record",
  https://learn.microsoft.com/power-apps/developer/data-platform/use-alternate-key-reference-record),
  is an upsert: it updates the row, or creates it when it is missing; ``If-Match: *`` forbids
  the create (404) and ``If-None-Match: *`` forbids the update (412, "A record with matching key
  values already exists.") ("Limit upsert operations",
  https://learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api).
  Alternate key values compare without regard to case, as the key's unique index does.
- Project tasks are scheduling entities: Project Operations creates, updates and deletes them
  through the Project schedule APIs only ("Use Project schedule APIs to perform operations with
  Scheduling entities", https://learn.microsoft.com/dynamics365/project-operations/
  project-management/schedule-api-preview), so direct writes are refused here; they are seeded.
- Every write takes the next row version (``versionnumber``) and a delete leaves the row's ID
  and a version behind, which is what change tracking (`changes`) answers from.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid
from decimal import Decimal
from typing import Any

from pssync.sandbox.common.memtable import MemTable
from pssync.sandbox.dynamics import odata
from pssync.sandbox.dynamics.entities import TABLES, Record, Table, check_body
from pssync.sandbox.dynamics.errors import NO_SEGMENT, NOT_FOUND, DataverseError

DELETED = "deleted:"  # MemTable type prefix of a table's deleted rows (ID, version)
SCHEDULE_ONLY = "0x80040265"  # a plug-in refused the operation (IsvAborted)


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DataverseService:
    """The rows of the emulated environment."""

    def __init__(self, table: MemTable) -> None:
        self.rows = table
        self.base_currency = str(uuid.uuid4())  # the organisation's base transaction currency
        self._lock = threading.RLock()
        self._version = itertools.count(1_000_000)
        self.high_water = 999_999  # the last row version issued (change tracking's clock)

    def table(self, set_name: str) -> Table:
        try:
            return TABLES[set_name]
        except KeyError:
            raise DataverseError(
                404, NO_SEGMENT, f"Resource not found for the segment '{set_name}'."
            ) from None

    def exists(self, set_name: str, row_id: str) -> bool:
        return self.rows.get(set_name, row_id) is not None

    # ---- reads --------------------------------------------------------------------------
    def find(self, table: Table, key: tuple[str, str]) -> Record | None:
        """The row a key addresses: (primary key or alternate key column, value)."""
        column, value = key
        if column == table.id_field:
            return self.rows.get(table.set_name, value.lower())
        wanted = value.casefold()
        return next(
            (
                r
                for r in self.rows.values(table.set_name)
                if str(r.get(column) or "").casefold() == wanted
            ),
            None,
        )

    def get(self, table: Table, key: tuple[str, str]) -> Record:
        row = self.find(table, key)
        if row is None:
            raise self.missing(table, key)
        return row

    def missing(self, table: Table, key: tuple[str, str], code: str = NOT_FOUND) -> DataverseError:
        return DataverseError(404, code, f"{table.logical} With Id = {key[1]} Does Not Exist")

    def query(
        self, table: Table, where: str | None, orderby: str | None
    ) -> tuple[list[Record], list[tuple[str, bool]]]:
        """Matching rows in order (memoised until the next write), and the order used."""
        order = odata.parse_orderby(table, orderby)
        predicate = odata.parse_filter(table, where)

        def build() -> list[Record]:
            rows = [r for r in self.rows.values(table.set_name) if predicate(r)]
            return sorted(rows, key=lambda r: odata.sort_key(order, r))

        return self.rows.memo(("query", table.set_name, where, orderby), build), order

    # ---- writes -------------------------------------------------------------------------
    def next_version(self) -> int:
        with self._lock:
            self.high_water = next(self._version)
            return self.high_water

    def _stamp(self, row: Record) -> Record:
        row["modifiedon"] = now_text()
        row["versionnumber"] = self.next_version()
        return row

    def tombstones(self, table: Table) -> list[Record]:
        """Deleted rows of `table` as change tracking reports them: ID and deletion version."""
        return self.rows.values(DELETED + table.set_name)

    def _currency(self, table: Table, row: Record) -> None:
        if "_transactioncurrencyid_value" in table.by_name:
            row["_transactioncurrencyid_value"] = (
                row.get("_transactioncurrencyid_value") or self.base_currency
            )

    def _refuse_schedule_entity(self, table: Table) -> None:
        if not table.direct_writes:
            raise DataverseError(
                400,
                SCHEDULE_ONLY,
                f"{table.logical} is a scheduling entity: create, update and delete it through "
                "the Project schedule APIs (msdyn_PssCreateV1, msdyn_PssUpdateV1, "
                "msdyn_PssDeleteV1).",
            )

    def create(self, table: Table, body: Record, ieee754: bool, key: Any = None) -> Record:
        self._refuse_schedule_entity(table)
        values = check_body(table, body, ieee754, self.exists)
        with self._lock:
            row_id = str(values.pop(table.id_field, None) or uuid.uuid4()).lower()
            if key is not None and key[0] == table.id_field:
                row_id = key[1].lower()
            elif key is not None:
                values[key[0]] = key[1]
            if self.exists(table.set_name, row_id):
                raise DataverseError(412, "0x80040237", "Cannot insert duplicate key.")
            row: Record = {c.name: None for c in table.columns}
            row.update(values)
            row.update({table.id_field: row_id, "createdon": now_text(), "statecode": 0})
            row["id"] = row_id  # the MemTable's key; never shown
            row["statuscode"] = values.get("statuscode") or 1
            self._currency(table, row)
            self.rows.put(table.set_name, self._stamp(row))
            return row

    def update(self, table: Table, row: Record, body: Record, ieee754: bool) -> Record:
        self._refuse_schedule_entity(table)
        values = check_body(table, body, ieee754, self.exists)
        values.pop(table.id_field, None)
        with self._lock:
            updated = self._stamp({**row, **values})
            self.rows.put(table.set_name, updated)
            return updated

    def upsert(
        self,
        table: Table,
        key: tuple[str, str],
        body: Record,
        ieee754: bool,
        if_match: str | None,
        if_none_match: str | None,
    ) -> tuple[Record, bool]:
        """(row, created?) of a PATCH addressed by `key`, limited by the conditional headers."""
        with self._lock:
            row = self.find(table, key)
            if row is None:
                if if_match == "*":  # the documented answer carries no code
                    raise self.missing(table, key, code="")
                return self.create(table, body, ieee754, key), True
            if if_none_match == "*":
                raise DataverseError(412, "", "A record with matching key values already exists.")
            return self.update(table, row, body, ieee754), False

    def delete(self, table: Table, key: tuple[str, str]) -> None:
        self._refuse_schedule_entity(table)
        with self._lock:
            row = self.get(table, key)
            row_id = str(row[table.id_field])
            self.rows.delete(table.set_name, row_id)
            gone = {"id": row_id, "versionnumber": self.next_version()}
            self.rows.put(DELETED + table.set_name, gone)  # for change tracking

    def seed(self, set_name: str, rows: list[Record]) -> None:
        """Load rows as stored (lookups as ``_x_value``), keeping stamps the seed gives."""
        table = self.table(set_name)
        loaded = []
        for given in rows:
            row: Record = {c.name: None for c in table.columns}
            row.update(given)
            for column in table.columns:  # decimals are kept as exact text, as writes keep them
                if column.kind in ("Money", "Decimal") and row.get(column.name) is not None:
                    row[column.name] = str(Decimal(str(row[column.name])))
            row[table.id_field] = row["id"] = str(given.get(table.id_field) or uuid.uuid4()).lower()
            stamp = now_text()
            row["createdon"] = given.get("createdon") or stamp
            row["modifiedon"] = given.get("modifiedon") or stamp
            row["statecode"] = given.get("statecode") or 0
            row["statuscode"] = given.get("statuscode") or 1
            row["versionnumber"] = self.next_version()
            self._currency(table, row)
            loaded.append(row)
        self.rows.put_many(set_name, loaded)
