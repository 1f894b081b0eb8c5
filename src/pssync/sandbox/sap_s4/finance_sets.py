"""The read-only finance entity sets: billing documents, journal entry items, open/cleared items.

A_BillingDocument follows API_BILLING_DOCUMENT_SRV. A_JournalEntryItemBasic follows
API_JOURNALENTRYITEMBASIC_SRV, the analytical read of the universal journal (ACDOCA) that
integrations use for project actuals: keyed by a generated ``ID``, read by ``PostingDate``
(journal entries are never changed once posted; a correction is a new document), with the
project and WBS element an item is posted to. Property names follow the CDS view
I_JournalEntryItem behind the API; which ones a tenant exposes varies by release.
A_OperationalAcctgDocItemCube follows API_OPLACCTGDOCITEMCUBE_SRV, the operational view of
accounting document items (customer and supplier open items, their clearing): keyed by company
code, fiscal year, document and item, with the invoice an item refers to (``InvoiceReference``)
and the document that cleared it; names as in the CDS view I_OperationalAcctgDocItem.
"""

from __future__ import annotations

from pssync.sandbox.sap_s4.edm import EntitySet, Prop, amount, date, flag, stamp, text

BILLING_DOCUMENT = EntitySet(
    name="A_BillingDocument",
    keys=("BillingDocument",),
    label="Billing Document Header",
    creatable=False,
    updatable=False,
    props=(
        Prop(
            "BillingDocument",
            "Edm.String",
            max_length=10,
            nullable=False,
            label="Billing Document",
            display_format="UpperCase",
        ),
        text("SDDocumentCategory", 4, "SD Document Category"),
        text("BillingDocumentCategory", 1, "Billing Category"),
        text("BillingDocumentType", 4, "Billing Type"),
        date("CreationDate", "Created On"),
        date("LastChangeDate", "Changed On"),
        stamp("LastChangeDateTime", "Time Stamp"),
        text("SalesOrganization", 4, "Sales Organization"),
        text("DistributionChannel", 2, "Distribution Channel"),
        text("Division", 2, "Division"),
        date("BillingDocumentDate", "Billing Date"),
        flag("BillingDocumentIsCancelled", "Canceled"),
        text("CancelledBillingDocument", 10, "Canceled Bill. Doc."),
        amount("TotalNetAmount", 16, "Net Value"),
        Prop(
            "TransactionCurrency",
            "Edm.String",
            max_length=5,
            label="Document Currency",
            display_format="UpperCase",
            semantics="currency-code",
        ),
        amount("TotalTaxAmount", 14, "Tax Amount"),
        amount("TotalGrossAmount", 17, "Total Gross Amount"),
        text("PayerParty", 10, "Payer"),
        text("CustomerPaymentTerms", 4, "Terms of Payment"),
        text("CompanyCode", 4, "Company Code"),
        text("FiscalYear", 4, "Fiscal Year"),
        text("AccountingDocument", 10, "Document Number"),
        text("SoldToParty", 10, "Sold-to Party"),
        text("PurchaseOrderByCustomer", 35, "Customer Reference", upper=False),
        text("OverallBillingStatus", 1, "Status"),
        text("AccountingPostingStatus", 1, "Posting Status"),
        text("InvoiceClearingStatus", 1, "Clearing Status"),
        # A custom field of the billing document header (key-user extensibility adds it to the
        # API as YY1_<name>_BDH): the firm's project, which a services billing document has no
        # standard header field for.
        text("YY1_EnterpriseProject_BDH", 24, "Enterprise Project"),
    ),
)


JOURNAL_ENTRY_ITEM = EntitySet(
    name="A_JournalEntryItemBasic",
    keys=("ID",),
    label="Journal Entry Item",
    creatable=False,
    updatable=False,
    props=(
        Prop("ID", "Edm.String", max_length=50, nullable=False, label="Generated ID"),
        text("CompanyCode", 4, "Company Code"),
        text("FiscalYear", 4, "Fiscal Year"),
        text("FiscalPeriod", 3, "Fiscal Period"),
        text("AccountingDocument", 10, "Journal Entry"),
        text("LedgerGLLineItem", 6, "Ledger G/L Line Item"),
        text("Ledger", 2, "Ledger"),
        text("SourceLedger", 2, "Source Ledger"),
        text("AccountingDocumentType", 2, "Journal Entry Type"),
        text("GLAccount", 10, "G/L Account"),
        date("PostingDate", "Posting Date"),
        date("DocumentDate", "Journal Entry Date"),
        text("DebitCreditCode", 1, "Debit/Credit Code"),
        amount("AmountInCompanyCodeCurrency", 23, "Amount in CC Crcy", "CompanyCodeCurrency"),
        Prop(
            "CompanyCodeCurrency",
            "Edm.String",
            max_length=5,
            label="Company Code Currency",
            display_format="UpperCase",
            semantics="currency-code",
        ),
        amount("AmountInTransactionCurrency", 23, "Amount in Trans. Crcy"),
        Prop(
            "TransactionCurrency",
            "Edm.String",
            max_length=5,
            label="Transaction Currency",
            display_format="UpperCase",
            semantics="currency-code",
        ),
        text("ProjectExternalID", 24, "Project"),
        text("WBSElementExternalID", 24, "WBS Element"),
        text("ProfitCenter", 10, "Profit Center"),
        text("Customer", 10, "Customer"),
        text("DocumentItemText", 50, "Item Text", upper=False),
        flag("IsReversal", "Reversal Indicator"),
    ),
)


def _currency(name: str, label: str) -> Prop:
    return Prop(
        name,
        "Edm.String",
        max_length=5,
        label=label,
        display_format="UpperCase",
        semantics="currency-code",
    )


OPERATIONAL_ITEM = EntitySet(
    name="A_OperationalAcctgDocItemCube",
    keys=("CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem"),
    label="Operational Accounting Document Item",
    creatable=False,
    updatable=False,
    props=(
        text("CompanyCode", 4, "Company Code"),
        text("FiscalYear", 4, "Fiscal Year"),
        text("AccountingDocument", 10, "Journal Entry"),
        text("AccountingDocumentItem", 3, "Journal Entry Item"),
        text("AccountingDocumentType", 2, "Journal Entry Type"),
        text("FinancialAccountType", 1, "Account Type"),
        text("Customer", 10, "Customer"),
        text("GLAccount", 10, "G/L Account"),
        date("PostingDate", "Posting Date"),
        date("DocumentDate", "Journal Entry Date"),
        date("NetDueDate", "Net Due Date"),
        text("DebitCreditCode", 1, "Debit/Credit Code"),
        amount("AmountInCompanyCodeCurrency", 23, "Amount in CC Crcy", "CompanyCodeCurrency"),
        _currency("CompanyCodeCurrency", "Company Code Currency"),
        amount("AmountInTransactionCurrency", 23, "Amount in Trans. Crcy"),
        _currency("TransactionCurrency", "Transaction Currency"),
        text("InvoiceReference", 10, "Invoice Reference"),
        text("InvoiceReferenceFiscalYear", 4, "Fiscal Year of Invoice"),
        text("InvoiceItemReference", 3, "Invoice Item"),
        text("ClearingAccountingDocument", 10, "Clearing Entry"),
        date("ClearingDate", "Clearing Date"),
        text("DocumentItemText", 50, "Item Text", upper=False),
    ),
)
