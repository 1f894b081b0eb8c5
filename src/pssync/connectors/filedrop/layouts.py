"""The ERP's file formats as the connector knows them: the columns of each record kind.

Batches must carry a header with at least the required columns; exports add the ERP's own id
(``erp_id``) and, for invoices, the payment state the ERP maintains. This mirrors the ERP's
interface document, not the sandbox's implementation of it.
"""

from __future__ import annotations

from dataclasses import dataclass

EXTERNAL_ID = "external_id"
ERP_ID = "erp_id"


@dataclass(frozen=True)
class Kind:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    erp_columns: tuple[str, ...] = ()  # export-only columns the ERP maintains
    types: tuple[tuple[str, str], ...] = ()  # column -> type, "string" when absent

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
            types=(
                ("invoice_date", "date"),
                ("due_date", "date"),
                ("amount", "decimal"),
                ("tax_amount", "decimal"),
                ("paid_amount", "decimal"),
                ("paid_date", "date"),
            ),
        ),
    )
}

# Reference columns of each kind and the kind they name (by external ID).
REFERENCES: dict[str, dict[str, str]] = {
    "projects": {"customer_external_id": "customers"},
    "invoices": {"customer_external_id": "customers", "project_external_id": "projects"},
}


def erp_column(column: str) -> str:
    """The read-only column reads add for a reference column: its target's ERP id."""
    return column.removesuffix("_external_id") + "_erp_id"
