"""The slice of SAP's OData v2 services that pssync reads and writes, declared once.

The metadata document, request validation, literal typing in `$filter` and the JSON encoding
all derive from these declarations, so a property cannot be served in one shape and described
in another. Names, types, lengths and `sap:` flags follow SAP's published metadata for
API_BUSINESS_PARTNER, API_ENTERPRISE_PROJECT_SRV and API_BILLING_DOCUMENT_SRV (sources in
docs/sandbox-sap-filedrop.md); only the properties an integration needs are kept.
"""

from __future__ import annotations

from pssync.sandbox.sap_s4.edm import (
    EntitySet,
    Nav,
    Prop,
    Service,
    clock,
    date,
    flag,
    guid,
    stamp,
    text,
)
from pssync.sandbox.sap_s4.finance_sets import (
    BILLING_DOCUMENT,
    JOURNAL_ENTRY_ITEM,
    OPERATIONAL_ITEM,
)
from pssync.sandbox.sap_s4.sales_sets import (
    BILLING_PLAN,
    BILLING_PLAN_ITEM,
    SALES_ORDER,
    SALES_ORDER_ITEM,
)

__all__ = ["SERVICES", "SERVICE_ROOT", "EntitySet", "Nav", "Prop", "Service", "service_of"]


BUSINESS_PARTNER = EntitySet(
    name="A_BusinessPartner",
    keys=("BusinessPartner",),
    label="Business Partner",
    required=("BusinessPartnerCategory",),
    props=(
        Prop(
            "BusinessPartner",
            "Edm.String",
            max_length=10,
            nullable=False,
            label="Business Partner",
            display_format="UpperCase",
        ),
        text("Customer", 10, "Customer", ro=True),
        text("BusinessPartnerCategory", 1, "BP Category"),
        text("BusinessPartnerFullName", 81, "Business Partner Full Name", ro=True, upper=False),
        text("BusinessPartnerGrouping", 4, "Grouping"),
        text("BusinessPartnerName", 81, "Business Partner Name", ro=True, upper=False),
        guid("BusinessPartnerUUID", "BP GUID", ro=True),
        text("BusinessPartnerIDByExtSystem", 20, "Ext. Partner Number", upper=False),
        text("OrganizationBPName1", 40, "Name 1", upper=False),
        text("OrganizationBPName2", 40, "Name 2", upper=False),
        text("FirstName", 40, "First Name", upper=False),
        text("LastName", 40, "Last Name", upper=False),
        text("SearchTerm1", 20, "Search Term 1"),
        text("SearchTerm2", 20, "Search Term 2"),
        text("Industry", 10, "Industry sector"),
        text("LegalForm", 2, "Legal form"),
        text("Language", 2, "Language"),
        text("CorrespondenceLanguage", 2, "Correspondence Lang."),
        flag("BusinessPartnerIsBlocked", "Central Block"),
        flag("IsMarkedForArchiving", "Archiving Flag"),
        text("CreatedByUser", 12, "Created By", ro=True),
        date("CreationDate", "Created On", ro=True),
        clock("CreationTime", "Created at"),
        text("LastChangedByUser", 12, "Changed by", ro=True),
        date("LastChangeDate", "Changed on", ro=True),
        clock("LastChangeTime", "Changed at"),
    ),
    navs=(
        Nav("to_BusinessPartnerRole", "A_BusinessPartnerRole", True, (("BusinessPartner",) * 2,)),
        Nav("to_Customer", "A_Customer", False, (("Customer",) * 2,)),
    ),
)

# The partner's roles (FLCU00 FI customer, FLCU01 customer, ...): API_BUSINESS_PARTNER.
BP_ROLE = EntitySet(
    name="A_BusinessPartnerRole",
    keys=("BusinessPartner", "BusinessPartnerRole"),
    label="BP Role",
    required=("BusinessPartner", "BusinessPartnerRole"),
    deletable=True,
    props=(
        text("BusinessPartner", 10, "Business Partner"),
        text("BusinessPartnerRole", 6, "BP Role"),
        Prop("ValidFrom", "Edm.DateTimeOffset", precision=0, label="Validity Start"),
        Prop("ValidTo", "Edm.DateTimeOffset", precision=0, label="Validity End"),
        text("AuthorizationGroup", 4, "Authorization Group"),
    ),
)

# The customer (general data) a partner in a customer role gets, with its company-code data.
CUSTOMER = EntitySet(
    name="A_Customer",
    keys=("Customer",),
    label="Customer",
    creatable=False,  # only through the business partner (deep insert)
    props=(
        text("Customer", 10, "Customer", ro=True),
        text("CustomerAccountGroup", 4, "Account Group"),
        text("CustomerName", 80, "Name of Customer", upper=False),
        text("CustomerFullName", 220, "Customer Full Name", ro=True, upper=False),
        text("CustomerClassification", 2, "Customer Classific."),
        text("OrderIsBlockedForCustomer", 2, "Order Block"),
        flag("PostingIsBlocked", "Posting Block"),
        flag("DeletionIndicator", "Deletion Flag"),
        text("CreatedByUser", 12, "Created By", ro=True),
        date("CreationDate", "Created On", ro=True),
    ),
    navs=(Nav("to_CustomerCompany", "A_CustomerCompany", True, (("Customer",) * 2,)),),
)

CUSTOMER_COMPANY = EntitySet(
    name="A_CustomerCompany",
    keys=("Customer", "CompanyCode"),
    label="Customer Company",
    required=("CompanyCode",),
    props=(
        text("Customer", 10, "Customer"),
        text("CompanyCode", 4, "Company Code"),
        text("PaymentTerms", 4, "Terms of Payment"),
        text("ReconciliationAccount", 10, "Reconciliation acct"),
        text("CustomerAccountGroup", 4, "Account Group", ro=True),
        text("PaymentBlockingReason", 1, "Payment Block"),
        flag("DeletionIndicator", "Deletion Flag"),
    ),
)

ENTERPRISE_PROJECT = EntitySet(
    name="A_EnterpriseProject",
    keys=("ProjectUUID",),
    label="Project",
    deletable=True,
    etag="LastChangeDateTime",
    required=("Project", "ProjectDescription", "ProjectStartDate", "ProjectEndDate"),
    props=(
        guid("ProjectUUID", "Entity GUID", ro=True, nullable=False),
        text("ProjectInternalID", 8, "Project Def.", ro=True),
        text("Project", 24, "Project ID"),
        text("ProjectDescription", 60, "Name", upper=False),
        text("EnterpriseProjectType", 2, "Project Type"),
        text("PriorityCode", 3, "Priority"),
        date("ProjectStartDate", "Latest Planned Start"),
        date("ProjectEndDate", "Ltst Planned Finish"),
        date("ActualStartDate", "Actual Start"),
        date("ActualEndDate", "Actual Finish"),
        guid("CustomerUUID", "BP GUID"),
        text("EnterpriseProjectServiceOrg", 5, "Service Organization"),
        text("ProcessingStatus", 2, "Processing Status", ro=True),
        text("ResponsibleCostCenter", 10, "Responsible CC"),
        text("ProfitCenter", 10, "Profit Center"),
        text("ProjectProfileCode", 7, "Project Profile"),
        text("CompanyCode", 4, "Company code"),
        text("ControllingArea", 4, "Controlling area"),
        Prop(
            "ProjectCurrency",
            "Edm.String",
            max_length=5,
            label="Custom Project Curr",
            display_format="UpperCase",
            semantics="currency-code",
        ),
        flag("IsBillingRelevant", "Billing Element"),
        stamp("LastChangeDateTime", "Changed On"),
        stamp("ProjectLastChangedDateTime", "Changed on"),
        text("LastChangedByUser", 12, "Changed By", ro=True),
        flag("EntProjectIsConfidential", "Confidential Project"),
    ),
    navs=(
        Nav(
            "to_EnterpriseProjectElement",
            "A_EnterpriseProjectElement",
            True,
            (("ProjectUUID",) * 2,),
        ),
    ),
)

PROJECT_ELEMENT = EntitySet(
    name="A_EnterpriseProjectElement",
    keys=("ProjectElementUUID",),
    label="Project Element",
    deletable=True,
    etag="LastChangeDateTime",
    required=("ProjectUUID", "ProjectElement", "ProjectElementDescription"),
    props=(
        guid("ProjectElementUUID", "Entity GUID", ro=True, nullable=False),
        text("ProjectElement", 24, "Project Element ID"),
        text("WBSElementInternalID", 8, "WBS Internal ID", ro=True),
        Prop("ProjectUUID", "Edm.Guid", label="Entity GUID", updatable=False),
        text("ProjectElementDescription", 60, "Name", upper=False),
        guid("ParentObjectUUID", "Parent GUID"),
        text("ProcessingStatus", 2, "Processing Status", ro=True),
        date("PlannedStartDate", "Latest Planned Start"),
        date("PlannedEndDate", "Ltst Planned Finish"),
        text("ResponsibleCostCenter", 10, "Responsible CC"),
        text("ProfitCenter", 10, "Profit Center"),
        flag("WBSElementIsBillingElement", "Billing Element"),
        text("CreatedByUser", 12, "Created By", ro=True),
        stamp("CreationDateTime", "Created On"),
        stamp("LastChangeDateTime", "Changed On"),
        text("LastChangedByUser", 12, "Changed By", ro=True),
    ),
)

SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("API_BUSINESS_PARTNER", (BUSINESS_PARTNER, BP_ROLE, CUSTOMER, CUSTOMER_COMPANY)),
        Service("API_ENTERPRISE_PROJECT_SRV", (ENTERPRISE_PROJECT, PROJECT_ELEMENT)),
        Service("API_BILLING_DOCUMENT_SRV", (BILLING_DOCUMENT,)),
        Service("API_JOURNALENTRYITEMBASIC_SRV", (JOURNAL_ENTRY_ITEM,)),
        Service("API_OPLACCTGDOCITEMCUBE_SRV", (OPERATIONAL_ITEM,)),
        Service(
            "API_SALES_ORDER_SRV",
            (SALES_ORDER, SALES_ORDER_ITEM, BILLING_PLAN, BILLING_PLAN_ITEM),
        ),
    )
}

SERVICE_ROOT = "/sap/opu/odata/sap"


def service_of(entity_set: str) -> Service:
    """The service that serves an entity set (entity set names are unique across services)."""
    for service in SERVICES.values():
        if service.entity_set(entity_set) is not None:
            return service
    raise KeyError(entity_set)
