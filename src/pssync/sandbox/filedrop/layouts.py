"""The legacy ERP's batch layouts: which CSV columns each batch kind has and how lines are checked.

A batch's kind comes from its file name (``customers_<id>.csv``, ``projects_<id>.csv``,
``invoices_<id>.csv``). Checks mirror what such ERPs enforce at import: mandatory columns,
ISO formats, two-decimal amounts, date order, and references to customers and projects that
the ERP already knows (or that appear earlier in the same batch).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# A check returns a reason when the value is wrong, None when it is fine.
Check = Callable[[str], str | None]


def _date(value: str) -> str | None:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return "invalid date, expected YYYY-MM-DD"
    return (
        None if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else "invalid date, expected YYYY-MM-DD"
    )


def _amount(value: str) -> str | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return "invalid amount"
    if not number.is_finite():
        return "invalid amount"
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return "more than 2 decimal places"
    return None


def _pattern(regex: str, reason: str) -> Check:
    compiled = re.compile(regex)
    return lambda value: None if compiled.fullmatch(value) else reason


def _one_of(*allowed: str) -> Check:
    return lambda value: None if value in allowed else f"must be one of {', '.join(allowed)}"


def _max_len(limit: int) -> Check:
    return lambda value: None if len(value) <= limit else f"longer than {limit} characters"


COUNTRY = _pattern(r"[A-Z]{2}", "invalid country code, expected ISO 3166 alpha-2")
CURRENCY = _pattern(r"[A-Z]{3}", "invalid currency code, expected ISO 4217")
EXTERNAL_ID = _pattern(r"[A-Za-z0-9_.:-]{1,40}", "invalid external id")


@dataclass(frozen=True)
class Layout:
    """One batch kind: its columns (required first), per-column checks, and references."""

    kind: str
    prefix: str  # ERP id prefix
    required: tuple[str, ...]
    optional: tuple[str, ...]
    checks: dict[str, Check]
    # column -> kind whose external id it must name
    references: dict[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        Layout(
            kind="customers",
            prefix="C",
            required=("external_id", "name", "country", "currency"),
            optional=("tax_id", "payment_terms", "billing_email"),
            checks={
                "external_id": EXTERNAL_ID,
                "name": _max_len(80),
                "country": COUNTRY,
                "currency": CURRENCY,
                "tax_id": _max_len(20),
                "payment_terms": _one_of("NET15", "NET30", "NET45", "NET60"),
                "billing_email": _pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "invalid email address"),
            },
            references={},
        ),
        Layout(
            kind="projects",
            prefix="P",
            required=(
                "external_id",
                "customer_external_id",
                "code",
                "name",
                "start_date",
                "end_date",
                "currency",
            ),
            optional=("budget", "billing_method"),
            checks={
                "external_id": EXTERNAL_ID,
                "code": _pattern(r"[A-Z0-9-]{1,24}", "invalid project code"),
                "name": _max_len(60),
                "start_date": _date,
                "end_date": _date,
                "currency": CURRENCY,
                "budget": _amount,
                "billing_method": _one_of("TM", "FIXED", "MILESTONE", "RETAINER"),
            },
            references={"customer_external_id": "customers"},
        ),
        Layout(
            kind="invoices",
            prefix="INV",
            required=(
                "external_id",
                "customer_external_id",
                "invoice_date",
                "due_date",
                "currency",
                "amount",
            ),
            optional=("project_external_id", "tax_amount", "description"),
            checks={
                "external_id": EXTERNAL_ID,
                "invoice_date": _date,
                "due_date": _date,
                "currency": CURRENCY,
                "amount": _amount,
                "tax_amount": _amount,
                "description": _max_len(120),
            },
            references={"customer_external_id": "customers", "project_external_id": "projects"},
        ),
    )
}

# What the ERP keeps itself and only exports (its interface document lists them as
# outbound-only files; a batch of one of these kinds is not a known batch kind): the contract
# behind each project, the instalment plan that bills it, its milestones, the payments
# collected and the general ledger journal. References name the other records by the external
# IDs they were sent under (for the ERP's own records, their ERP number).
EXPORT_LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        Layout(
            kind="contracts",
            prefix="CT",
            required=(
                "external_id",
                "project_external_id",
                "customer_external_id",
                "description",
                "billing_method",
                "contract_value",
                "currency",
                "start_date",
                "end_date",
                "status",
            ),
            optional=("service_line",),
            checks={},
            references={"project_external_id": "projects", "customer_external_id": "customers"},
        ),
        Layout(
            kind="billing_schedules",
            prefix="BS",
            required=(
                "external_id",
                "contract_external_id",
                "frequency",
                "in_advance",
                "instalments",
                "first_bill_date",
                "last_bill_date",
                "instalment_amount",
                "currency",
            ),
            optional=(),
            checks={},
            references={"contract_external_id": "contracts"},
        ),
        Layout(
            kind="milestones",
            prefix="MS",
            required=(
                "external_id",
                "contract_external_id",
                "description",
                "due_date",
                "amount",
                "currency",
                "status",
            ),
            optional=("invoice_external_id",),
            checks={},
            references={"contract_external_id": "contracts", "invoice_external_id": "invoices"},
        ),
        Layout(
            kind="payments",
            prefix="RC",
            required=(
                "external_id",
                "invoice_external_id",
                "customer_external_id",
                "received_date",
                "amount",
                "currency",
            ),
            optional=(),
            checks={},
            references={"invoice_external_id": "invoices", "customer_external_id": "customers"},
        ),
        # The general ledger journal: one row per line of an entry (external ID
        # ``<entry>/<line>``), debit and credit in the entry's currency; lines on P&L accounts
        # name the project they are posted to. Entries are never changed once posted.
        Layout(
            kind="journal",
            prefix="JE",
            required=(
                "external_id",
                "entry_no",
                "line_no",
                "posting_date",
                "account",
                "debit",
                "credit",
                "currency",
            ),
            optional=("project_external_id", "description"),
            checks={},
            references={"project_external_id": "projects"},
        ),
    )
}
ALL_LAYOUTS: dict[str, Layout] = {**LAYOUTS, **EXPORT_LAYOUTS}

# Pairs (earlier, later) of date columns that must be in order.
DATE_ORDER = {"projects": ("start_date", "end_date"), "invoices": ("invoice_date", "due_date")}


def layout_for(filename: str) -> Layout | None:
    """The layout named by a batch file's prefix (``projects_2024-07-01_001.csv``)."""
    kind = filename.split("_", 1)[0].split(".", 1)[0].lower()
    return LAYOUTS.get(kind)
