"""The ERP's file formats as the connector knows them: the columns of each record kind.

Batches must carry a header with at least the required columns; exports add the ERP's own id
(``erp_id``) and, for invoices, the payment state the ERP maintains. Contracts, billing
schedules, milestones, payments and the general ledger journal are the ERP's own books: they
appear in its exports only, and the connector refuses to write them. The journal is read as two
kinds, its revenue lines and its cost lines (by account, settings `revenue_accounts` and
`cost_accounts`), each line with its ``reported_amount`` (revenue credit minus debit, cost debit
minus credit). This mirrors the ERP's
interface document, not the sandbox's implementation of it.
"""

from __future__ import annotations

from dataclasses import dataclass

EXTERNAL_ID = "external_id"
ERP_ID = "erp_id"
# The ERP's audit stamp of a row's last change (exports carry it beside ``created_at``).
UPDATED = "updated_at"


@dataclass(frozen=True)
class Kind:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    erp_columns: tuple[str, ...] = ()  # export-only columns the ERP maintains
    types: tuple[tuple[str, str], ...] = ()  # column -> type, "string" when absent
    export_only: bool = False  # the ERP's own books: read from its exports, never written
    # The export file the kind is read from, when it is a slice of another kind's file: the
    # journal's lines of one kind of posting ("revenue" or "cost", by account; see settings).
    source: str = ""
    posting: str | None = None
    # A dated fact's business date: it stamps the record, so its valid time is the day it
    # happened, not the day the export was read (an invoice: its last payment, else its date).
    dated_by: tuple[str, ...] = ()  # the first of these columns with a date

    @property
    def file(self) -> str:
        return self.source or self.name

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns pssync writes, in the order of the interface document."""
        return self.required + self.optional

    def type_of(self, column: str) -> str:
        return dict(self.types).get(column, "string")


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "customers",
            required=("external_id", "name", "country", "currency"),
            optional=("tax_id", "payment_terms", "billing_email"),
        ),
        Kind(
            "projects",
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
            types=(("start_date", "date"), ("end_date", "date"), ("budget", "decimal")),
        ),
        Kind(
            "invoices",
            required=(
                "external_id",
                "customer_external_id",
                "invoice_date",
                "due_date",
                "currency",
                "amount",
            ),
            optional=("project_external_id", "tax_amount", "description"),
            erp_columns=("status", "paid_amount", "paid_date"),
            dated_by=("paid_date", "invoice_date"),
            types=(
                ("invoice_date", "date"),
                ("due_date", "date"),
                ("amount", "decimal"),
                ("tax_amount", "decimal"),
                ("paid_amount", "decimal"),
                ("paid_date", "date"),
            ),
        ),
        # The ERP's own books, in its exports only (the interface document's outbound files).
        Kind(
            "contracts",
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
            types=(("contract_value", "decimal"), ("start_date", "date"), ("end_date", "date")),
            export_only=True,
        ),
        Kind(
            "billing_schedules",
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
            types=(
                ("instalments", "int"),
                ("first_bill_date", "date"),
                ("last_bill_date", "date"),
                ("instalment_amount", "decimal"),
            ),
            export_only=True,
        ),
        Kind(
            "milestones",
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
            types=(("due_date", "date"), ("amount", "decimal")),
            export_only=True,
        ),
        Kind(
            "payments",
            required=(
                "external_id",
                "invoice_external_id",
                "customer_external_id",
                "received_date",
                "amount",
                "currency",
            ),
            optional=(),
            types=(("received_date", "date"), ("amount", "decimal")),
            export_only=True,
            dated_by=("received_date",),
        ),
        *(
            Kind(
                f"journal_{posting}",
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
                erp_columns=(),
                types=(("posting_date", "date"), ("debit", "decimal"), ("credit", "decimal")),
                export_only=True,
                source="journal",
                posting=posting,
                dated_by=("posting_date",),
            )
            for posting in ("revenue", "cost")
        ),
    )
}

# Reference columns of each kind and the kind they name (by external ID).
REFERENCES: dict[str, dict[str, str]] = {
    "projects": {"customer_external_id": "customers"},
    "invoices": {"customer_external_id": "customers", "project_external_id": "projects"},
    "contracts": {"project_external_id": "projects", "customer_external_id": "customers"},
    "billing_schedules": {"contract_external_id": "contracts"},
    "milestones": {"contract_external_id": "contracts", "invoice_external_id": "invoices"},
    "payments": {"invoice_external_id": "invoices", "customer_external_id": "customers"},
    "journal_revenue": {"project_external_id": "projects"},
    "journal_cost": {"project_external_id": "projects"},
}


def erp_column(column: str) -> str:
    """The read-only column reads add for a reference column: its target's ERP id."""
    return column.removesuffix("_external_id") + "_erp_id"
