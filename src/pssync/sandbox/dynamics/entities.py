"""The Dataverse tables the emulator serves, their columns, and how a write body is checked.

Columns follow the Web API entity reference (account, opportunity; Project Operations'
msdyn_project and msdyn_projecttask: https://learn.microsoft.com/dynamics365/project-operations/
and https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/entitytypes).
A lookup is read as ``_<name>_value`` and written through its navigation property with
``"<nav>@odata.bind": "/<set>(<id>)"`` ("Associate table rows on create",
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api).
``pssync_externalid`` is the column (with an alternate key) that the pssync solution adds to the
Project Operations tables and opportunities; accounts use their ``accountnumber`` key.

Decimal and money values travel as JSON numbers, or as strings when the request says
``IEEE754Compatible=true`` (OData JSON format 4.01, section 3.2), which pssync sends.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.sandbox.dynamics.errors import NOT_FOUND, PAYLOAD, TOO_LONG, DataverseError

Record = dict[str, Any]
EDM = {
    "String": "Edm.String",
    "Memo": "Edm.String",
    "Money": "Edm.Decimal",
    "Decimal": "Edm.Decimal",
    "Integer": "Edm.Int32",
    "Picklist": "Edm.Int32",
    "State": "Edm.Int32",
    "Boolean": "Edm.Boolean",
    "DateTime": "Edm.DateTimeOffset",
    "DateOnly": "Edm.Date",
    "Uniqueidentifier": "Edm.Guid",
    "Lookup": "Edm.Guid",
}
BIND = re.compile(r"^/?(\w+)\(([0-9a-fA-F-]{36})\)$")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    max_length: int | None = None
    target: str | None = None  # a lookup's entity set
    nav: str | None = None  # a lookup's navigation property (what writes bind)
    writable: bool = True
    precision: int | None = None  # decimal places a Decimal column keeps


@dataclass(frozen=True)
class Table:
    set_name: str
    logical: str
    id_field: str
    columns: tuple[Column, ...]
    alternate_key: str | None = None
    direct_writes: bool = True  # False: written through the Project schedule APIs only
    by_name: dict[str, Column] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({c.name: c for c in self.columns})

    def type_name(self) -> str:
        return f"Microsoft.Dynamics.CRM.{self.logical}"


def _system(id_field: str) -> tuple[Column, ...]:
    return (
        Column(id_field, "Uniqueidentifier"),
        Column("createdon", "DateTime", writable=False),
        Column("modifiedon", "DateTime", writable=False),
        Column("versionnumber", "Integer", writable=False),
        Column("statecode", "State"),
        Column("statuscode", "Picklist"),
    )


def _lookup(nav: str, target: str, name: str | None = None) -> Column:
    """A lookup read as ``_<name>_value``; a customer lookup (account or contact) binds one
    navigation property per target (``msdyn_customer_account``)."""
    return Column(f"_{name or nav}_value", "Lookup", target=target, nav=nav, writable=False)


# Money columns take the row's transaction currency (the organisation's base currency unless
# set): "Transaction currency (TransactionCurrency) table", Dataverse table reference.
CURRENCY = Column("_transactioncurrencyid_value", "Lookup", writable=False)
STATE_LABELS = {
    "statecode": {0: "Active", 1: "Inactive"},
    "statuscode": {1: "Active", 2: "Inactive"},
}

TABLES: dict[str, Table] = {
    t.set_name: t
    for t in (
        Table(
            "accounts",
            "account",
            "accountid",
            (
                *_system("accountid"),
                Column("name", "String", 160),
                Column("accountnumber", "String", 20),
                Column("websiteurl", "String", 200),
                Column("telephone1", "String", 50),
                Column("fax", "String", 50),
                Column("address1_line1", "String", 250),
                Column("address1_city", "String", 80),
                Column("address1_postalcode", "String", 20),
                Column("address1_country", "String", 80),
                Column("address1_latitude", "Decimal", precision=5),
                Column("industrycode", "Picklist"),
                Column("accountcategorycode", "Picklist"),
                Column("creditonhold", "Boolean"),
                Column("revenue", "Money"),
                CURRENCY,
                Column("description", "Memo", 2000),
            ),
            alternate_key="accountnumber",
        ),
        Table(
            "contacts",
            "contact",
            "contactid",
            (
                *_system("contactid"),
                Column("fullname", "String", 160),
                Column("firstname", "String", 50),
                Column("lastname", "String", 50),
                Column("emailaddress1", "String", 100),
                _lookup("parentcustomerid_account", "accounts", "parentcustomerid"),
            ),
        ),
        Table(
            "opportunities",
            "opportunity",
            "opportunityid",
            (
                *_system("opportunityid"),
                Column("name", "String", 300),
                Column("pssync_externalid", "String", 100),
                _lookup("parentaccountid", "accounts"),
                Column("estimatedvalue", "Money"),
                CURRENCY,
                Column("estimatedclosedate", "DateOnly"),
                Column("closeprobability", "Integer"),
                Column("salesstage", "Picklist"),
                Column("description", "Memo", 2000),
            ),
            alternate_key="pssync_externalid",
        ),
        Table(
            "msdyn_projects",
            "msdyn_project",
            "msdyn_projectid",
            (
                *_system("msdyn_projectid"),
                Column("msdyn_subject", "String", 200),
                Column("pssync_externalid", "String", 100),
                _lookup("msdyn_customer_account", "accounts", "msdyn_customer"),
                _lookup("msdyn_opportunity", "opportunities"),
                Column("msdyn_scheduledstart", "DateOnly"),
                Column("msdyn_finish", "DateOnly"),
                Column("msdyn_effort", "Decimal"),
                Column("msdyn_description", "Memo", 2000),
            ),
            alternate_key="pssync_externalid",
        ),
        Table(
            "msdyn_projecttasks",
            "msdyn_projecttask",
            "msdyn_projecttaskid",
            (
                *_system("msdyn_projecttaskid"),
                Column("msdyn_subject", "String", 450),
                Column("pssync_externalid", "String", 100),
                _lookup("msdyn_project", "msdyn_projects"),
                _lookup("msdyn_parenttask", "msdyn_projecttasks"),
                Column("msdyn_outlinelevel", "Integer"),
                Column("msdyn_wbsid", "String", 100),
                Column("msdyn_effort", "Decimal"),
                Column("msdyn_scheduledstart", "DateOnly"),
                Column("msdyn_scheduledend", "DateOnly"),
            ),
            alternate_key="pssync_externalid",
            direct_writes=False,
        ),
        # Columns of msdyn_resourceassignment (Dynamics 365 entity reference); the commit type
        # is 192350001 hard book, 192350002 soft book, 192350000 none, 192350003 proposed,
        # 192350004 canceled.
        Table(
            "msdyn_resourceassignments",
            "msdyn_resourceassignment",
            "msdyn_resourceassignmentid",
            (
                *_system("msdyn_resourceassignmentid"),
                Column("msdyn_name", "String", 100),
                Column("pssync_externalid", "String", 100),
                _lookup("msdyn_projectid", "msdyn_projects"),
                _lookup("msdyn_taskid", "msdyn_projecttasks"),
                Column("_msdyn_bookableresourceid_value", "Lookup", writable=False),
                Column("msdyn_committype", "Picklist"),
                Column("msdyn_fromdate", "DateOnly"),
                Column("msdyn_todate", "DateOnly"),
                Column("msdyn_hours", "Decimal"),
            ),
            alternate_key="pssync_externalid",
            direct_writes=False,
        ),
    )
}
BY_LOGICAL = {t.logical: t for t in TABLES.values()}


def _payload_error(table: Table, detail: str) -> DataverseError:
    return DataverseError(
        400,
        PAYLOAD,
        f"Error identified in Payload provided by the user for Entity :'{table.set_name}', "
        f"For more information on this error please follow this help link "
        f"https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : "
        f"Microsoft.OData.ODataException: {detail}",
    )


def _convert(table: Table, column: Column, value: Any, ieee754: bool) -> Any:
    """The stored form of one written value, or the error Dataverse gives for it."""
    if value is None:
        return None
    wrong = _payload_error(
        table, f"Cannot convert the literal '{value}' to the expected type '{EDM[column.kind]}'."
    )
    kind = column.kind
    if kind in ("String", "Memo"):
        if not isinstance(value, str):
            raise wrong
        if column.max_length is not None and len(value) > column.max_length:
            raise DataverseError(
                400,
                TOO_LONG,
                f"A validation error occurred. The length of the '{column.name}' attribute of "
                f"the '{table.logical}' entity exceeded the maximum allowed length of "
                f"'{column.max_length}'.",
            )
        return value
    if kind in ("Integer", "Picklist", "State"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        return value
    if kind in ("Money", "Decimal"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise wrong
        if isinstance(value, str) and not ieee754:
            raise wrong
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise wrong from None
        if column.precision is not None:
            number = number.quantize(Decimal(1).scaleb(-column.precision))
        return str(number)
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise wrong
        return value
    if kind == "DateOnly":
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise wrong from None
    if kind == "DateTime":
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise wrong from None
        if moment.tzinfo is None or "T" not in str(value):
            raise wrong
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def check_body(table: Table, body: Record, ieee754: bool, exists: Any) -> Record:
    """The columns a create or update body sets, converted; `exists(set, id)` checks binds."""
    out: Record = {}
    for name, value in body.items():
        if name.startswith("@"):
            continue
        if name.endswith("@odata.bind"):
            nav = name.removesuffix("@odata.bind")
            column = next((c for c in table.columns if c.nav == nav), None)
            if column is None:
                raise _payload_error(
                    table,
                    f"An undeclared property '{nav}' which only has property "
                    "annotations in the payload but no property value was found in the payload.",
                )
            out[column.name] = _bound(table, column, value, exists)
            continue
        column = table.by_name.get(name)
        if column is None or not column.writable:
            raise _payload_error(
                table,
                f"The property '{name}' does not exist on type '{table.type_name()}'. Make sure "
                "to only use property names that are defined by the type or mark the type as "
                "open type.",
            )
        out[name] = _convert(table, column, value, ieee754)
    return out


def _bound(table: Table, column: Column, value: Any, exists: Any) -> str | None:
    if value is None:
        return None
    match = BIND.match(str(value))
    if match is None or match.group(1) != column.target:
        raise _payload_error(table, f"Invalid reference '{value}' for '{column.nav}'.")
    target_id = match.group(2).lower()
    if not exists(column.target, target_id):
        logical = TABLES[str(column.target)].logical
        raise DataverseError(404, NOT_FOUND, f"{logical} With Id = {target_id} Does Not Exist")
    return target_id
