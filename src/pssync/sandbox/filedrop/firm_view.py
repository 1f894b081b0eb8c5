"""Read the synthetic firm's view of the legacy ERP (its native export layout) into the ledger's.

Besides customers, projects and invoices (what pssync also sends), the firm's view holds what
the ERP keeps itself (contracts, billing schedules, milestones, payments, its general ledger
journal), numbered by the ERP.

The firm writes what such an ERP exports: its own numbers (`customer_no`, `project_no`,
`invoice_no`), the CRM reference pssync once sent (`crm_ref`) and `dd/mm/yyyy` dates. The ledger
keys records by the external ID a sender uses and keeps the ERP number as `erp_id`, with ISO
dates, so the rows are translated once at seeding.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

Row = dict[str, Any]


def is_native(view: dict[str, list[Row]]) -> bool:
    """Whether `view` is in the firm's native layout rather than the ledger's."""
    return any("customer_no" in row for row in view.get("customers", []))


def _iso(day: Any) -> str:
    text = str(day or "").strip()
    if not text:
        return ""
    return dt.datetime.strptime(text, "%d/%m/%Y").date().isoformat()  # noqa: DTZ007 - a date


def _stamps(row: Row) -> Row:
    """The ERP's audit stamps of a row (``YYYY-MM-DD HH:MM:SS`` UTC in the export): when the
    record was created (its last change when the export names no creation) and last changed."""
    changed = str(row.get("updated_at") or "").strip()
    if not changed:
        return {}
    created = str(row.get("created_at") or "").strip() or changed
    return {"created_at": _utc(created), "updated_at": _utc(changed)}


def _utc(text: str) -> str:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).isoformat()


def _paid_date(row: Row) -> str:
    """The day of the last payment of a (partly) paid invoice: its last update."""
    if str(row.get("status") or "OPEN").upper() == "OPEN":
        return ""
    return str(row.get("updated_at") or "")[:10]


def to_ledger(view: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """The same records keyed the ledger's way, references resolved to external IDs."""
    customer_ext: dict[str, str] = {}
    customers = []
    for row in view.get("customers", []):
        external = str(row.get("crm_ref") or row["customer_no"])
        if external in customer_ext.values():  # a second customer for one CRM account (a
            external = str(row["customer_no"])  # duplicate): the ERP keys it by its own number
        customer_ext[str(row["customer_no"])] = external
        customers.append(
            {
                "erp_id": row["customer_no"],
                "external_id": external,
                "name": row.get("name", ""),
                "country": row.get("country", ""),
                "currency": row.get("currency", ""),
                "payment_terms": row.get("payment_terms", ""),
                **_stamps(row),
            }
        )
    project_ext: dict[str, str] = {}
    projects = []
    for row in view.get("projects", []):
        external = str(row.get("crm_ref") or row["project_no"])
        project_ext[str(row["project_no"])] = external
        projects.append(
            {
                "erp_id": row["project_no"],
                "external_id": external,
                "customer_external_id": customer_ext.get(str(row.get("customer_no")), ""),
                "code": row["project_no"],
                "name": row.get("name", ""),
                "start_date": _iso(row.get("start_date")),
                "end_date": _iso(row.get("end_date")),
                "currency": row.get("currency", ""),
                "budget": row.get("contract_value", ""),
                **_stamps(row),
            }
        )
    invoices = [
        {
            "erp_id": row["invoice_no"],
            "external_id": row["invoice_no"],
            "customer_external_id": customer_ext.get(str(row.get("customer_no")), ""),
            "project_external_id": project_ext.get(str(row.get("project_no")), ""),
            "invoice_date": _iso(row.get("invoice_date")),
            "due_date": _iso(row.get("due_date")),
            "currency": row.get("currency", ""),
            "amount": row.get("net_amount", ""),
            "tax_amount": row.get("tax_amount", ""),
            # The ERP's own payment state (its export writes it in lower case).
            "status": str(row.get("status") or "OPEN").lower(),
            "paid_amount": row.get("paid_amount", ""),
            "paid_date": _paid_date(row),
            **_stamps(row),
        }
        for row in view.get("invoices", [])
    ]
    invoice_ext = {
        str(row["invoice_no"]): str(row["invoice_no"]) for row in view.get("invoices", [])
    }
    own = _own_records(view, customer_ext, project_ext, invoice_ext)
    return {"customers": customers, "projects": projects, "invoices": invoices, **own}


def _own_records(
    view: dict[str, list[Row]],
    customer_ext: dict[str, str],
    project_ext: dict[str, str],
    invoice_ext: dict[str, str],
) -> dict[str, list[Row]]:
    """The export-only kinds: the ERP's own numbers serve as their external IDs."""

    def own(row: Row, number: str) -> Row:
        return {"erp_id": row[number], "external_id": row[number], **_stamps(row)}

    contracts = [
        {
            **own(row, "contract_no"),
            "project_external_id": project_ext.get(str(row.get("project_no")), ""),
            "customer_external_id": customer_ext.get(str(row.get("customer_no")), ""),
            "description": row.get("description", ""),
            "billing_method": row.get("billing_method", ""),
            "service_line": row.get("service_line", ""),
            "contract_value": row.get("contract_value", ""),
            "currency": row.get("currency", ""),
            "start_date": _iso(row.get("start_date")),
            "end_date": _iso(row.get("end_date")),
            "status": row.get("status", ""),
        }
        for row in view.get("contracts", [])
    ]
    schedules = [
        {
            **own(row, "schedule_no"),
            "contract_external_id": row.get("contract_no", ""),
            "frequency": row.get("frequency", ""),
            "in_advance": row.get("in_advance", ""),
            "instalments": row.get("instalments", ""),
            "first_bill_date": _iso(row.get("first_bill_date")),
            "last_bill_date": _iso(row.get("last_bill_date")),
            "instalment_amount": row.get("instalment_amount", ""),
            "currency": row.get("currency", ""),
        }
        for row in view.get("billing_schedules", [])
    ]
    milestones = [
        {
            **own(row, "milestone_no"),
            "contract_external_id": row.get("contract_no", ""),
            "description": row.get("description", ""),
            "due_date": _iso(row.get("due_date")),
            "amount": row.get("amount", ""),
            "currency": row.get("currency", ""),
            "status": row.get("status", ""),
            "invoice_external_id": invoice_ext.get(str(row.get("invoice_no") or ""), ""),
        }
        for row in view.get("milestones", [])
    ]
    payments = [
        {
            **own(row, "payment_no"),
            "invoice_external_id": invoice_ext.get(str(row.get("invoice_no")), ""),
            "customer_external_id": customer_ext.get(str(row.get("customer_no")), ""),
            "received_date": _iso(row.get("received_date")),
            "amount": row.get("amount", ""),
            "currency": row.get("currency", ""),
        }
        for row in view.get("payments", [])
    ]
    journal = [
        {
            "erp_id": f"{row['entry_no']}/{row['line_no']}",
            "external_id": f"{row['entry_no']}/{row['line_no']}",
            "entry_no": row["entry_no"],
            "line_no": row["line_no"],
            "posting_date": _iso(row.get("posting_date")),
            "account": row.get("gl_account", ""),
            "project_external_id": project_ext.get(str(row.get("project_no") or ""), ""),
            "debit": row.get("debit", ""),
            "credit": row.get("credit", ""),
            "currency": row.get("currency", ""),
            "description": row.get("narration", ""),
            **_stamps(row),
        }
        for row in view.get("journal", [])
    ]
    return {
        "contracts": contracts,
        "billing_schedules": schedules,
        "milestones": milestones,
        "payments": payments,
        "journal": journal,
    }
