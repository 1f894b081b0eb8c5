"""What SAP S/4HANA (OData v2 APIs) holds for the German entity: business partners, enterprise
projects with their elements, billing documents, and the journal entries of the projects'
revenue recognition and labor costs.

Entity sets and properties follow API_BUSINESS_PARTNER, API_ENTERPRISE_PROJECT_SRV,
API_BILLING_DOCUMENT_SRV and API_JOURNALENTRYITEMBASIC_SRV. Dates are ISO strings here; an
emulator serialises them as OData v2 ``/Date(ms)/`` literals. Decimal amounts are strings, as
SAP returns Edm.Decimal in JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm import erp_common, views_sap_orders
from pssync.sandbox.firm.ids import stable_uuid
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import at, cents_str, iso
from pssync.sandbox.firm.world import InvoiceRec, PaymentRec, PostingRec

SYSTEM = "sap_s4"
COMPANY_CODE = "DE01"
TERMS = {"Net 30": "0030", "Net 45": "0045", "Net 60": "0060"}
# The sandbox's chart of accounts: (debit, credit) G/L accounts of each kind of posting. Revenue
# recognition debits unbilled receivables and credits revenue; labor cost debits cost of services
# and credits accrued payroll. Lines on P&L accounts carry the project and WBS element.
ACCOUNTS = {"revenue": ("12600000", "41000000"), "cost": ("50301000", "21100000")}
P_AND_L = {"41000000", "50301000"}
TEXT = {"revenue": "Revenue recognition", "cost": "Labor cost"}


def clearing_status(paid: int, gross: int) -> str:
    """SAP InvoiceClearingStatus: A not cleared, B partially cleared, C completely cleared."""
    if paid >= gross:
        return "C"
    return "B" if paid else "A"


def partner_uuid(account_id: str) -> str:
    """The business partner's GUID (``BusinessPartnerUUID``), stable per account."""
    return stable_uuid("partner", account_id)


def invoice_document(inv: InvoiceRec) -> str:
    """The number of the accounting document a billing document was posted as."""
    return f"{90_000_000 + inv.idx:010d}"


def open_item(
    firm: Firm, document: str, item: int, when: dt.date, cents: int, inv: InvoiceRec
) -> dict[str, Any]:
    """A customer line (FinancialAccountType D) of an accounting document."""
    return {
        "CompanyCode": COMPANY_CODE,
        "FiscalYear": str(when.year),
        "AccountingDocument": document,
        "AccountingDocumentItem": f"{item:03d}",
        "FinancialAccountType": "D",
        "Customer": firm.xrefs.get(firm.accounts[inv.account].id, "sap_s4:A_BusinessPartner"),
        "GLAccount": "12100000",
        "PostingDate": when.isoformat(),
        "DocumentDate": when.isoformat(),
        "DebitCreditCode": "S" if cents > 0 else "H",
        "AmountInCompanyCodeCurrency": cents_str(cents),
        "CompanyCodeCurrency": inv.currency,
        "AmountInTransactionCurrency": cents_str(cents),
        "TransactionCurrency": inv.currency,
    }


def receivable_items(firm: Firm) -> None:
    """A_OperationalAcctgDocItemCube: each DE01 invoice's receivable (document type RV) and
    each incoming payment (DZ) referring to it; an invoice paid in full is cleared by its last
    payment, which clears itself with it."""
    mine = {inv.idx: inv for inv in erp_common.invoices(firm, SYSTEM)}
    paid: dict[int, int] = {}
    cleared: dict[int, tuple[str, dt.date]] = {}
    payments: list[tuple[PaymentRec, str]] = []
    number = 1_400_000_000
    for pay in firm.books.payments:
        inv = mine.get(pay.invoice)
        if inv is None:
            continue
        number += 1
        payments.append((pay, f"{number:010d}"))
        paid[inv.idx] = paid.get(inv.idx, 0) + pay.amount_cents
        if paid[inv.idx] >= inv.gross_cents:
            cleared[inv.idx] = (f"{number:010d}", pay.received)
    for inv in mine.values():
        row = open_item(firm, invoice_document(inv), 1, inv.issue, inv.gross_cents, inv)
        clearing = cleared.get(inv.idx)
        row |= {
            "AccountingDocumentType": "RV",
            "DocumentItemText": f"Invoice {inv.number}",
            "NetDueDate": inv.due.isoformat(),
        }
        if clearing:
            row |= {
                "ClearingAccountingDocument": clearing[0],
                "ClearingDate": clearing[1].isoformat(),
            }
        firm.add_view(SYSTEM, "A_OperationalAcctgDocItemCube", None, row)
    for pay, document in payments:
        inv = mine[pay.invoice]
        row = open_item(firm, document, 2, pay.received, -pay.amount_cents, inv)
        row |= {
            "AccountingDocumentType": "DZ",
            "InvoiceReference": invoice_document(inv),
            "InvoiceReferenceFiscalYear": str(inv.issue.year),
            "InvoiceItemReference": "001",
            "DocumentItemText": f"Payment {inv.number}",
        }
        clearing = cleared.get(inv.idx)
        if clearing:
            row |= {
                "ClearingAccountingDocument": clearing[0],
                "ClearingDate": clearing[1].isoformat(),
            }
        key = "/".join(
            row[k]
            for k in ("CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem")
        )
        firm.xrefs.issue(pay.id, f"{SYSTEM}:A_OperationalAcctgDocItemCube_payment", key)
        firm.add_view(SYSTEM, "A_OperationalAcctgDocItemCube", pay.id, row)


def billing_row(firm: Firm, inv: InvoiceRec, paid: int, moment: dt.datetime) -> dict[str, Any]:
    p = firm.projects[inv.project]
    acc = firm.accounts[inv.account]
    bp = firm.xrefs.get(acc.id, "sap_s4:A_BusinessPartner")
    return {
        "BillingDocument": firm.xrefs.issue(inv.id, "sap_s4:A_BillingDocument", inv.number),
        "BillingDocumentType": "F2",
        "SDDocumentCategory": "M",
        "BillingDocumentCategory": "L",
        "BillingDocumentDate": inv.issue.isoformat(),
        "SoldToParty": bp,
        "PayerParty": bp,
        "CompanyCode": COMPANY_CODE,
        "FiscalYear": str(inv.issue.year),
        "AccountingDocument": invoice_document(inv),
        "TotalNetAmount": cents_str(inv.net_cents),
        "TotalTaxAmount": cents_str(inv.tax_cents),
        "TransactionCurrency": inv.currency,
        "CustomerPaymentTerms": TERMS[acc.payment_terms],
        "OverallBillingStatus": "C",
        "AccountingPostingStatus": "C",
        "InvoiceClearingStatus": clearing_status(paid, inv.gross_cents),
        "BillingDocumentIsCancelled": False,
        "YY1_EnterpriseProject_BDH": p.code,
        "CreationDate": inv.issue.isoformat(),
        "LastChangeDate": moment.date().isoformat(),
        "LastChangeDateTime": iso(moment),
    }


def customer_records(firm: Firm, bp: str, name: str, terms: str) -> None:
    """A customer partner's roles (FLCU00 financial accounting, FLCU01 sales), its customer
    record and its data in the company code, as the partner's creation left them."""
    for role in ("FLCU00", "FLCU01"):
        row = {"BusinessPartner": bp, "BusinessPartnerRole": role}
        firm.add_view(SYSTEM, "A_BusinessPartnerRole", None, row)
    firm.add_view(
        SYSTEM,
        "A_Customer",
        None,
        {"Customer": bp, "CustomerName": name[:80], "CustomerFullName": name},
    )
    company = {
        "Customer": bp,
        "CompanyCode": COMPANY_CODE,
        "PaymentTerms": TERMS[terms],
        "ReconciliationAccount": "12100000",
    }
    firm.add_view(SYSTEM, "A_CustomerCompany", None, company)


def journal_rows(firm: Firm, post: PostingRec, number: int) -> list[dict[str, Any]]:
    """The two lines of a posting's journal entry (A_JournalEntryItemBasic): SAP signs amounts,
    a credit is negative (DebitCreditCode H)."""
    p = firm.projects[post.project]
    document = f"{number:010d}"
    year = str(post.posted.year)
    debit, credit = ACCOUNTS[post.kind]
    project_id = firm.xrefs.get(p.id, f"{SYSTEM}:A_EnterpriseProject")
    rows = []
    for line, (account, sign) in enumerate(((debit, 1), (credit, -1)), start=1):
        on_project = account in P_AND_L or post.kind == "revenue"
        amount = cents_str(sign * post.amount_cents)
        rows.append(
            {
                "ID": f"0L{COMPANY_CODE}{year}{document}{line:06d}",
                "CompanyCode": COMPANY_CODE,
                "FiscalYear": year,
                "FiscalPeriod": f"{post.posted.month:03d}",
                "AccountingDocument": document,
                "LedgerGLLineItem": f"{line:06d}",
                "Ledger": "0L",
                "SourceLedger": "0L",
                "AccountingDocumentType": "SA",
                "GLAccount": account,
                "PostingDate": post.posted.isoformat(),
                "DocumentDate": post.posted.isoformat(),
                "DebitCreditCode": "S" if sign > 0 else "H",
                "AmountInCompanyCodeCurrency": amount,
                "CompanyCodeCurrency": p.currency,
                "AmountInTransactionCurrency": amount,
                "TransactionCurrency": p.currency,
                "ProjectExternalID": project_id if on_project else None,
                "ProfitCenter": f"YB{p.service_line[:3]}",
                "DocumentItemText": f"{TEXT[post.kind]} {p.code}",
                "IsReversal": False,
            }
        )
    return rows


def build(firm: Firm) -> None:
    for acc, since in erp_common.customers(firm, SYSTEM):
        bp = firm.xrefs.issue(acc.id, "sap_s4:A_BusinessPartner")
        firm.add_view(
            SYSTEM,
            "A_BusinessPartner",
            acc.id,
            {
                "BusinessPartner": bp,
                "BusinessPartnerUUID": partner_uuid(acc.id),
                # The CRM account the partner was created for (the integration's reference).
                "BusinessPartnerIDByExtSystem": firm.xrefs.get(acc.id, "salesforce:Account"),
                "Customer": bp,
                "BusinessPartnerCategory": "2",
                "BusinessPartnerGrouping": "BP02",
                "BusinessPartnerFullName": acc.legal_name,
                "BusinessPartnerName": acc.legal_name,
                "OrganizationBPName1": acc.legal_name,
                "SearchTerm1": acc.name.upper()[:20],
                "CreationDate": since.date().isoformat(),
                "LastChangeDate": since.date().isoformat(),
                "LastChangeTime": since.strftime("PT%HH%MM%SS"),
                "IsMarkedForArchiving": False,
            },
        )
        customer_records(firm, bp, acc.legal_name, acc.payment_terms)
    for p, created in erp_common.projects(firm, SYSTEM):
        acc = firm.accounts[p.account]
        project_uuid = stable_uuid("project", p.id)
        status = "40" if p.planned_end < firm.today else "10"
        firm.add_view(
            SYSTEM,
            "A_EnterpriseProject",
            p.id,
            {
                "ProjectUUID": project_uuid,
                "ProjectInternalID": str(10_000 + p.idx),
                "Project": firm.xrefs.issue(p.id, "sap_s4:A_EnterpriseProject", p.code),
                "ProjectDescription": p.name[:40],
                "EnterpriseProjectType": "C1",
                "ProjectStartDate": p.planned_start.isoformat(),
                "ProjectEndDate": p.planned_end.isoformat(),
                "CompanyCode": COMPANY_CODE,
                "ProfitCenter": f"YB{p.service_line[:3]}",
                "ResponsibleCostCenter": f"10{p.service_line[:3]}",
                "ProjectCurrency": p.currency,
                # API_ENTERPRISE_PROJECT_SRV links the customer by the partner's GUID.
                "CustomerUUID": partner_uuid(acc.id),
                "ProcessingStatus": status,
                "CreationDateTime": iso(created),
                "LastChangeDateTime": iso(created),
            },
        )
        for w in p.wbs:
            firm.add_view(
                SYSTEM,
                "A_EnterpriseProjectElement",
                w.id,
                {
                    "ProjectElementUUID": stable_uuid("element", w.id),
                    "ProjectUUID": project_uuid,
                    "ProjectElement": firm.xrefs.issue(
                        w.id, "sap_s4:A_EnterpriseProjectElement", w.code
                    ),
                    "ProjectElementDescription": w.name,
                    # The firm bills its customer projects by their elements.
                    "WBSElementIsBillingElement": True,
                    "PlannedStartDate": w.start.isoformat(),
                    "PlannedEndDate": w.end.isoformat(),
                    "LastChangeDateTime": iso(created),
                },
            )
    views_sap_orders.build(firm)
    paid = erp_common.paid_state(firm)
    for inv in erp_common.invoices(firm, SYSTEM):
        cents, moment = paid.get(inv.idx, (0, at(inv.issue, 9)))
        firm.add_view(SYSTEM, "A_BillingDocument", inv.id, billing_row(firm, inv, cents, moment))
    number = 100_000_000
    for post in firm.postings:
        if firm.projects[post.project].legal_entity != COMPANY_CODE:
            continue
        number += 1
        for row in journal_rows(firm, post, number):
            fact_line = row["GLAccount"] in P_AND_L  # the line the canonical fact is read from
            if fact_line:
                # keyed by the connector's object, as the engine keys what it captures
                obj = f"A_JournalEntryItemBasic_{post.kind}"
                firm.xrefs.issue(post.id, f"{SYSTEM}:{obj}", row["ID"])
            firm.add_view(SYSTEM, "A_JournalEntryItemBasic", post.id if fact_line else None, row)
    receivable_items(firm)
