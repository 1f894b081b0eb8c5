"""Sales orders and their billing plans: API_SALES_ORDER_SRV (read-only here).

A services contract in S/4HANA is a sales order whose header carries a billing plan: periodic
billing (billing plan type 02: one date per period, each with its settlement period and the
value billed) or milestone billing (type 01: one date per milestone, each with its value).
Entity sets, keys and property names, lengths and labels follow SAP's metadata of the Sales
Order (A2X) API, API_SALES_ORDER_SRV (SAP Business Accelerator Hub,
https://api.sap.com/api/API_SALES_ORDER_SRV/overview; communication scenario SAP_COM_0109):
``A_SalesOrder`` (key SalesOrder), ``A_SalesOrderItem`` (SalesOrder, SalesOrderItem),
``A_SalesOrderBillingPlan`` "Header Billing Plan" (SalesOrder, BillingPlan) and
``A_SalesOrderBillingPlanItem`` "Header Billing Plan Item" (SalesOrder, BillingPlan,
BillingPlanItem), linked by ``to_Item``, ``to_BillingPlan`` and ``to_BillingPlanItem``. The
billing status of a date (``BillingPlanRelatedBillgStatus``) is SD's status: A not yet
processed, C completely processed (billed). ``SenderBusinessSystemName`` and
``ExternalDocumentID`` (CHAR 60 and 40, in the API's metadata and the SAP Cloud SDK's generated
client of the service) name the system and document an order was created from: a firm whose CRM
integration creates the order from a won opportunity finds the opportunity there. Only the
properties an integration reads are kept.
Billing plans carry no change stamp of their own: a change to one is a change of its sales
order, whose ``LastChangeDateTime`` moves.
"""

from __future__ import annotations

from pssync.sandbox.sap_s4.edm import EntitySet, Nav, Prop, amount, date, stamp, text

CURRENCY = Prop(
    "TransactionCurrency",
    "Edm.String",
    max_length=5,
    label="Currency",
    display_format="UpperCase",
    semantics="currency-code",
)
ORDER_KEY = (("SalesOrder",) * 2,)

SALES_ORDER = EntitySet(
    name="A_SalesOrder",
    keys=("SalesOrder",),
    label="Sales Order",
    creatable=False,
    updatable=False,
    props=(
        text("SalesOrder", 10, "Sales Order"),
        text("SalesOrderType", 4, "Sales Document Type"),
        text("SalesOrganization", 4, "Sales Organization"),
        text("DistributionChannel", 2, "Distribution Channel"),
        text("OrganizationDivision", 2, "Division"),
        text("SoldToParty", 10, "Sold-to Party"),
        # The document an external system created the order from (its business system, its
        # document's ID): a CRM integration keeps the won opportunity here.
        text("SenderBusinessSystemName", 60, "Sender Business System", upper=False),
        text("ExternalDocumentID", 40, "External Document ID", upper=False),
        date("SalesOrderDate", "Document Date"),
        text("PurchaseOrderByCustomer", 35, "Customer Reference", upper=False),
        date("RequestedDeliveryDate", "Requested Delivery Date"),
        amount("TotalNetAmount", 16, "Net Value"),
        CURRENCY,
        text("OverallSDProcessStatus", 1, "Overall Status"),
        stamp("LastChangeDateTime", "Time Stamp"),
    ),
    navs=(
        Nav("to_Item", "A_SalesOrderItem", True, ORDER_KEY),
        Nav("to_BillingPlan", "A_SalesOrderBillingPlan", True, ORDER_KEY),
    ),
)

SALES_ORDER_ITEM = EntitySet(
    name="A_SalesOrderItem",
    keys=("SalesOrder", "SalesOrderItem"),
    label="Sales Order Item",
    creatable=False,
    updatable=False,
    props=(
        text("SalesOrder", 10, "Sales Order"),
        text("SalesOrderItem", 6, "Sales Order Item"),
        text("SalesOrderItemCategory", 4, "Item Category"),
        text("SalesOrderItemText", 40, "Item Description", upper=False),
        amount("NetAmount", 16, "Net Value"),
        CURRENCY,
        text("WBSElement", 24, "WBS Element"),
    ),
)

BILLING_PLAN = EntitySet(
    name="A_SalesOrderBillingPlan",
    keys=("SalesOrder", "BillingPlan"),
    label="Header Billing Plan",
    creatable=False,
    updatable=False,
    props=(
        text("SalesOrder", 10, "Sales Order", ro=True),
        text("BillingPlan", 10, "Bill. Plan No.", ro=True),
        date("BillingPlanStartDate", "Start Date"),
        text("BillingPlanStartDateRule", 2, "Origin of Start Date"),
        text("ReferenceBillingPlan", 10, "Reference"),
        text("BillingPlanCategory", 1, "Category", ro=True),
        text("BillingPlanType", 2, "Billing Plan Type", ro=True),
        date("BillingPlanEndDate", "End Date", ro=True),
        text("BillingPlanEndDateRule", 2, "Origin End Date", ro=True),
        text("BillingPlanSearchTerm", 10, "Search Term", ro=True),
    ),
    navs=(
        Nav(
            "to_BillingPlanItem",
            "A_SalesOrderBillingPlanItem",
            True,
            (("SalesOrder", "SalesOrder"), ("BillingPlan", "BillingPlan")),
        ),
    ),
)

BILLING_PLAN_ITEM = EntitySet(
    name="A_SalesOrderBillingPlanItem",
    keys=("SalesOrder", "BillingPlan", "BillingPlanItem"),
    label="Header Billing Plan Item",
    creatable=False,
    updatable=False,
    props=(
        text("SalesOrder", 10, "Sales Order", ro=True),
        text("BillingPlan", 10, "Bill. Plan No.", ro=True),
        text("BillingPlanItem", 6, "Item", ro=True),
        text("BillingPlanDateCategory", 2, "Date Category"),
        date("BillingPlanBillingDate", "Billing Date"),
        amount("BillingPlanAmount", 16, "Billing Value"),
        CURRENCY,
        Prop("BillingPlanAmountPercent", "Edm.Decimal", precision=5, scale=2, label="Invoice %"),
        text("CustomerPaymentTerms", 4, "Terms of Payment"),
        text("ProposedBillingDocumentType", 4, "Billing Type"),
        text("BillingPlanDateDescriptionCode", 4, "Date Description"),
        text("BillingBlockReason", 2, "Billing Block"),
        date("BillingPlanServiceStartDate", "Settlement Start Date", ro=True),
        date("BillingPlanServiceEndDate", "Settlement End Date", ro=True),
        text("BillingPlanRelatedBillgStatus", 1, "Billing Status", ro=True),
        text("BillingPlanType", 2, "Billing Plan Type", ro=True),
        text("BillingPlanBillingRule", 1, "Billing Rule", ro=True),
        text("BillingPlanMilestoneUsage", 5, "Usage", ro=True),
    ),
)
