"""The NetSuite record types the emulator serves and the body validation each one gets.

Record types (REST names): `customer`, `job` (project), `projecttask` (a task, or a project
milestone with `isMilestone`), `salesorder` (the contract: one priced service line per order,
with the `billingSchedule` that bills it), `billingschedule` (Lists > Accounting > Billing
Schedules: a Standard schedule's frequency and in-arrears flag with the bills it generates as
its `recurrence` list, or a Fixed Bid Milestone schedule's `milestone` list of project
milestones and amounts, as in the SOAP schema's BillingScheduleRecurrence and
BillingScheduleMilestone), `invoice`, `customerpayment` (collections, applied to invoices), plus
the two sources of project actuals: `timebill` (time, i.e. labour cost and T&M revenue basis)
and `journalentry` (cost postings and revenue recognition, each line tagged with the project as
`entity`). Journal entries are what NetSuite's revenue recognition and expense allocation
actually post, so a connector that reads GL-level actuals reads them, not a custom record.
Lookup types (`subsidiary`, `employee`, `account`, ...) and any `customrecord_*` are served
without validation so the synthetic firm can seed what it needs.

Validation mirrors what a NetSuite form would refuse on create: mandatory fields, numbers that
are not numbers, references that are not `{"id": ...}` / `{"externalId": ...}`, sublists not in
the `{"items": [...]}` shape, and journals that do not balance. Each failure names the field in
`o:errorPath` so the connector can route the exception to its owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.sandbox.netsuite.errors import NetSuiteError

Record = dict[str, Any]


@dataclass(frozen=True)
class Sublist:
    required: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    min_lines: int = 1


@dataclass(frozen=True)
class RecordType:
    """Schema facts the emulator enforces; `references` maps a field to its target types."""

    name: str
    required: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sublists: dict[str, Sublist] = field(default_factory=dict)
    created_field: str = "createdDate"
    transaction_code: str | None = None  # SuiteQL transaction.type, e.g. CustInvc
    labels: dict[str, str] = field(default_factory=dict)
    # What an individual (isPerson) needs instead of `required`: a name, not a company name.
    person_required: tuple[str, ...] | None = None


_ENTITY = "dateCreated"
RECORD_TYPES: dict[str, RecordType] = {
    t.name: t
    for t in (
        RecordType(
            "customer",
            required=("companyName", "subsidiary"),
            references={"subsidiary": ("subsidiary",), "parent": ("customer",)},
            created_field=_ENTITY,
            labels={
                "companyName": "Company Name",
                "subsidiary": "Primary Subsidiary",
                "firstName": "First Name",
                "lastName": "Last Name",
            },
            person_required=("firstName", "lastName", "subsidiary"),
        ),
        RecordType(
            "job",
            required=("companyName", "parent"),
            numbers=("projectedTotalCost", "estimatedRevenue"),
            references={"parent": ("customer",), "subsidiary": ("subsidiary",)},
            created_field=_ENTITY,
            labels={"companyName": "Project Name", "parent": "Customer"},
        ),
        RecordType(
            "projecttask",
            required=("title", "company"),
            numbers=("plannedWork", "estimatedWork", "actualWork"),
            references={"company": ("job",), "parent": ("projecttask",)},
            labels={"title": "Name", "company": "Project"},
        ),
        RecordType(
            "invoice",
            required=("entity", "item"),
            references={"entity": ("customer", "job"), "job": ("job",)},
            sublists={
                "item": Sublist(required=("amount",), numbers=("quantity", "rate", "amount"))
            },
            transaction_code="CustInvc",
            labels={"entity": "Customer", "item": "Items"},
        ),
        RecordType(
            "salesorder",
            required=("entity", "item"),
            numbers=("subtotal", "total"),
            references={
                "entity": ("customer",),
                "job": ("job",),
                "billingSchedule": ("billingschedule",),
                "subsidiary": ("subsidiary",),
            },
            sublists={
                "item": Sublist(required=("amount",), numbers=("quantity", "rate", "amount"))
            },
            transaction_code="SalesOrd",
            labels={"entity": "Customer", "item": "Items"},
        ),
        RecordType(
            "billingschedule",
            required=("name", "scheduleType"),
            numbers=("recurrenceCount",),
            references={"project": ("job",)},
            sublists={
                "recurrence": Sublist(
                    required=("recurrenceDate", "amount"), numbers=("amount",), min_lines=0
                ),
                "milestone": Sublist(
                    required=("milestoneDate", "milestoneAmount"),
                    numbers=("milestoneAmount",),
                    references={"projectTask": ("projecttask",)},
                    min_lines=0,
                ),
            },
            labels={"name": "Name", "scheduleType": "Type"},
        ),
        RecordType(
            "timebill",
            required=("employee", "hours", "tranDate"),
            numbers=("hours", "rate"),
            references={
                "employee": ("employee",),
                "customer": ("job", "customer"),
                "caseTaskEvent": ("projecttask",),
            },
            labels={"employee": "Employee", "hours": "Duration", "tranDate": "Date"},
        ),
        RecordType(
            "customerpayment",
            required=("customer", "payment"),
            numbers=("payment",),
            references={"customer": ("customer",)},
            sublists={"apply": Sublist(numbers=("amount",), min_lines=0)},
            transaction_code="CustPymt",
            labels={"customer": "Customer", "payment": "Payment Amount"},
        ),
        RecordType(
            "journalentry",
            required=("subsidiary", "line"),
            references={"subsidiary": ("subsidiary",)},
            sublists={
                "line": Sublist(
                    required=("account",),
                    numbers=("debit", "credit"),
                    references={"account": ("account",), "entity": ("job", "customer")},
                    min_lines=2,
                )
            },
            transaction_code="Journal",
            labels={"subsidiary": "Subsidiary", "line": "Lines"},
        ),
    )
}
LOOKUP_TYPES = frozenset(
    (
        "subsidiary",
        "employee",
        "account",
        "department",
        "classification",
        "location",
        "currency",
        "serviceitem",
        "vendor",
        "term",
    )
)


def record_type(name: str) -> RecordType | None:
    """The spec for a type name, a bare spec for lookups/custom records, or None if unknown."""
    name = name.lower()
    if name in RECORD_TYPES:
        return RECORD_TYPES[name]
    if name in LOOKUP_TYPES or name.startswith("customrecord"):
        created = _ENTITY if name in ("employee", "vendor") else "createdDate"
        return RecordType(name, created_field=created)
    return None


def _missing(spec: RecordType, name: str, path: str) -> NetSuiteError:
    label = spec.labels.get(name, name)
    return NetSuiteError(
        400, f"Error while accessing a resource. Please enter value(s) for: {label}.", path=path
    )


def _invalid(path: str, value: object, why: str) -> NetSuiteError:
    return NetSuiteError(400, f"Invalid value {value!r} for field {path}: {why}.", path=path)


def is_blank(value: object) -> bool:
    return value is None or value == "" or value == {} or value == []


def to_decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid(path, value, "expected a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _invalid(path, value, "expected a number") from None


def check_reference(value: object, path: str) -> None:
    if not isinstance(value, dict) or not (value.get("id") or value.get("externalId")):
        raise _invalid(path, value, 'expected a reference like {"id": "123"}')


def validate(spec: RecordType, body: Record, *, creating: bool, one_world: bool = True) -> None:
    """Raise NetSuiteError (400, naming the field) for a body this record type refuses.
    Subsidiaries exist only in OneWorld accounts; elsewhere none is asked for."""
    if creating:
        person = spec.person_required is not None and body.get("isPerson") is True
        for name in spec.person_required if person and spec.person_required else spec.required:
            if name == "subsidiary" and not one_world:
                continue
            if is_blank(body.get(name)):
                raise _missing(spec, name, name)
    for name in spec.numbers:
        if body.get(name) is not None:
            to_decimal(body[name], name)
    for name in spec.references:
        if body.get(name) is not None:
            check_reference(body[name], name)
    for name, sub in spec.sublists.items():
        if name in body:
            _validate_sublist(spec, name, sub, body[name])


def _validate_sublist(spec: RecordType, name: str, sub: Sublist, value: object) -> None:
    lines = value.get("items") if isinstance(value, dict) else None
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise _invalid(name, value, 'expected a sublist like {"items": [{...}]}')
    if len(lines) < sub.min_lines:
        raise _missing(spec, name, name)
    debit = credit = Decimal(0)
    for index, line in enumerate(lines):
        prefix = f"{name}.items[{index}]"
        for field_name in sub.required:
            if is_blank(line.get(field_name)):
                raise _missing(spec, field_name, f"{prefix}.{field_name}")
        for field_name in sub.numbers:
            if line.get(field_name) is not None:
                to_decimal(line[field_name], f"{prefix}.{field_name}")
        for field_name in sub.references:
            if line.get(field_name) is not None:
                check_reference(line[field_name], f"{prefix}.{field_name}")
        debit += to_decimal(line.get("debit") or 0, f"{prefix}.debit")
        credit += to_decimal(line.get("credit") or 0, f"{prefix}.credit")
    if "debit" in sub.numbers and debit != credit:
        raise NetSuiteError(
            400,
            f"The transaction is out of balance: debits {debit} do not equal credits {credit}.",
            path=name,
        )
