"""Revenue and cost postings (API_JOURNALENTRYITEMBASIC_SRV) and incoming customer payments
(API_OPLACCTGDOCITEMCUBE_SRV) read from SAP's accounting.

Finance reads project actuals as journal entry items on the P&L accounts that carry the project:
recognised revenue on the revenue accounts, costs on the cost accounts (which accounts those
are is the firm's chart of accounts, so they are settings). SAP signs the amounts: a credit is
negative, so revenue comes as a negative amount. Two things are added to each item read:

* ``ReportedAmount``: the amount as finance reports it (revenue and cost both positive);
* ``EnterpriseProjectUUID``: the GUID of the project named by ``ProjectExternalID``, which is
  how the project is known to the cross-system ID map (projects are read keyed by GUID).

Payments are the customer lines (account type D) of incoming-payment documents (document type
DZ by default, a setting), credits, so reported positive too; each names the invoice's
accounting document (``InvoiceReference``), and ``BillingDocument`` is added: the billing
document posted as that accounting document, which is how invoices are known to the ID map.

Billing documents name their project only in a custom header field (setting
`billing_project_field`); ``ProjectUUID`` is added from it, the GUID the ID map knows, and
``NetDueDate``, the due date of the receivable the document was posted as.

Accounting documents are never changed once posted (a correction is a new, reversing entry), so
items are read by posting date. An entry posted later with an earlier posting date is found by
the scheduled reconciliation, as hard deletes are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pssync.connectors.sap_s4.objects import OBJECTS, SapObject
from pssync.connectors.sap_s4.transport import translated

if TYPE_CHECKING:
    from pssync.connectors.sap_s4.service import SapService

PROJECT_GUID = "EnterpriseProjectUUID"
REPORTED = "ReportedAmount"
BILLING_DOCUMENT = "BillingDocument"


def accounts_clause(connector: SapService, sap: SapObject) -> str:
    """`$filter` for the items of the object's kind: G/L accounts, or payment lines."""
    config = connector.config
    if sap.posting_kind == "payment":
        types = " or ".join(
            "AccountingDocumentType eq '" + t.replace("'", "''") + "'"
            for t in config.payment_document_types
        )
        return f"({types}) and FinancialAccountType eq 'D'"
    accounts = config.revenue_accounts if sap.posting_kind == "revenue" else config.cost_accounts
    quoted = (a.replace("'", "''") for a in accounts)
    return "(" + " or ".join(f"GLAccount eq '{a}'" for a in quoted) + ")"


def enrich(connector: SapService, sap: SapObject, rows: list[dict[str, Any]]) -> None:
    """Add the reported amount and the project's GUID to journal items read."""
    sign = Decimal(1) if sap.posting_kind == "cost" else Decimal(-1)  # credits reported positive
    for row in rows:
        amount = row.get("AmountInCompanyCodeCurrency")
        row[REPORTED] = None if amount is None else str(sign * Decimal(str(amount)))
    if sap.posting_kind == "payment":
        invoices = billing_documents(
            connector, [str(r.get("InvoiceReference") or "") for r in rows]
        )
        for row in rows:
            row[BILLING_DOCUMENT] = invoices.get(str(row.get("InvoiceReference") or ""))
        return
    guids = project_guids(connector, [str(r.get("ProjectExternalID") or "") for r in rows])
    for row in rows:
        row[PROJECT_GUID] = guids.get(str(row.get("ProjectExternalID") or ""))


def complete_billing(connector: SapService, rows: list[dict[str, Any]]) -> None:
    """Add to billing documents ``ProjectUUID``, the GUID of the project their header's custom
    project field names (setting `billing_project_field`), and ``NetDueDate``, the due date
    of the receivable they were posted as (the customer item of their accounting document)."""
    field = connector.config.billing_project_field
    codes = [str(r.get(field) or "") if field else "" for r in rows]
    guids = project_guids(connector, codes)
    due = due_dates(connector, [str(r.get("AccountingDocument") or "") for r in rows])
    for row, code in zip(rows, codes, strict=True):
        row["ProjectUUID"] = guids.get(code) if code else None
        row["NetDueDate"] = due.get(str(row.get("AccountingDocument") or ""))


def due_dates(connector: SapService, documents: list[str]) -> dict[str, str]:
    """NetDueDate of each accounting document's customer item (FinancialAccountType D)."""
    items = connector.client("API_OPLACCTGDOCITEMCUBE_SRV").entity_sets
    cube = getattr(items, OBJECTS["A_OperationalAcctgDocItemCube_payment"].entity_set_name)
    unique, found = sorted({d for d in documents if d}), {}
    chunk = connector.config.lookup_chunk
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        clause = " or ".join("AccountingDocument eq '" + d.replace("'", "''") + "'" for d in part)
        request = cube.get_entities().select("AccountingDocument,NetDueDate")
        request = request.filter(f"({clause}) and FinancialAccountType eq 'D'")
        with translated():
            rows = list(request.top(len(part) * 4 + 1).execute())
        for row in rows:
            if row.NetDueDate is not None:
                found[str(row.AccountingDocument)] = str(row.NetDueDate)[:10]
    return found


def billing_documents(connector: SapService, documents: list[str]) -> dict[str, str]:
    """BillingDocument by the accounting document it was posted as."""
    return _lookup(
        connector, "A_BillingDocument", "AccountingDocument", "BillingDocument", documents
    )


def project_guids(connector: SapService, projects: list[str]) -> dict[str, str]:
    """ProjectUUID by Project ID."""
    return _lookup(connector, "A_EnterpriseProject", "Project", "ProjectUUID", projects)


def _lookup(
    connector: SapService, obj: str, by: str, wanted: str, values: list[str]
) -> dict[str, str]:
    """`wanted` by `by` for the records of `obj` with those values, a chunk per request."""
    sap = OBJECTS[obj]
    unique = sorted({v for v in values if v})
    found: dict[str, str] = {}
    chunk = connector.config.lookup_chunk
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        clause = " or ".join(f"{by} eq '" + v.replace("'", "''") + "'" for v in part)
        rows, _ = connector.fetch(sap, top=len(part) * 2 + 1, filter_=clause)
        found.update({str(r[by]): str(r[wanted]) for r in rows})
    return found
