"""The objects the emulator serves, with the standard fields pssync reads and the custom fields
it writes back (``Delivery_Start__c``, ``PSA_Project_Id__c``, ...).

Field lists follow the Salesforce Object Reference for each object; they are a subset (the
fields a services firm's sync touches), not the full standard schema.
"""

from __future__ import annotations

from typing import Any

from pssync.sandbox.salesforce.ids import KEY_PREFIXES
from pssync.sandbox.salesforce.opportunity import STAGES
from pssync.sandbox.salesforce.schema import FieldDef, ObjectDef


def _s(name: str, length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(name, "string", length=length, **kw)


def _ro(name: str, kind: str, **kw: Any) -> FieldDef:
    """A field the server maintains: readable, never written by clients."""
    return FieldDef(name, kind, createable=False, updateable=False, **kw)


def _ref(name: str, target: str, **kw: Any) -> FieldDef:
    rel = name[:-2] if name.endswith("Id") else name.replace("__c", "__r")
    return FieldDef(name, "reference", length=18, reference_to=target, relationship_name=rel, **kw)


def _pick(name: str, *values: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "picklist", length=255, picklist=values, **kw)


def _system(owner: bool = True, modified: bool = True) -> list[FieldDef]:
    fields = [
        _ro("Id", "id", length=18, nillable=False),
        _ro("IsDeleted", "boolean", nillable=False),
        _ro("CreatedDate", "datetime", nillable=False),
        _ro("CreatedById", "reference", reference_to="User", relationship_name="CreatedBy"),
    ]
    if modified:
        fields += [
            _ro("LastModifiedDate", "datetime", nillable=False),
            _ro(
                "LastModifiedById",
                "reference",
                reference_to="User",
                relationship_name="LastModifiedBy",
            ),
        ]
    fields.append(_ro("SystemModstamp", "datetime", nillable=False))
    if owner:
        fields.append(_ref("OwnerId", "User"))
    return fields


# Opportunity fields whose changes OpportunityFieldHistory records in this org (field history
# tracking on StageName, Amount and CloseDate), plus "created" for a new record.
TRACKED_FIELDS = ("created", "StageName", "Amount", "CloseDate")
HISTORY_DATA_TYPES = ("Text", "Currency", "Date", "DynamicEnum")
EXTERNAL_ID = FieldDef("External_Id__c", "string", length=255, external_id=True, unique=True)
SYNC_STATUS = _pick("Sync_Status__c", "Pending", "Synced", "Error", "Excluded")
SERVICE_CATEGORY = _s("Service_Category__c")


def _objects() -> list[ObjectDef]:
    account = ObjectDef(
        "Account",
        "Account",
        "Accounts",
        [
            *_system(),
            _s("Name", required=True, nillable=False, name_field=True),
            _s("AccountNumber", 40),
            _pick("Type", "Prospect", "Customer - Direct", "Customer - Channel", "Partner"),
            _pick("Industry", "Consulting", "Technology", "Finance", "Healthcare", "Retail"),
            _ref("ParentId", "Account"),
            _s("BillingStreet"),
            _s("BillingCity", 40),
            _s("BillingState", 80),
            _s("BillingPostalCode", 20),
            _s("BillingCountry", 80),
            FieldDef("Phone", "phone", length=40),
            FieldDef("Website", "url", length=255),
            FieldDef("AnnualRevenue", "currency"),
            FieldDef("NumberOfEmployees", "int"),
            FieldDef("Description", "textarea", length=32000),
            FieldDef("ERP_Customer_Id__c", "string", length=64, external_id=True),
            SYNC_STATUS,
            EXTERNAL_ID,
        ],
    )
    contact = ObjectDef(
        "Contact",
        "Contact",
        "Contacts",
        [
            *_system(),
            _ref("AccountId", "Account"),
            _s("FirstName", 40),
            _s("LastName", 80, required=True, nillable=False),
            _ro("Name", "string", length=121, name_field=True),
            FieldDef("Email", "email", length=80),
            FieldDef("Phone", "phone", length=40),
            _s("Title", 128),
            _s("Department", 80),
            _s("MailingCity", 40),
            _s("MailingCountry", 80),
            EXTERNAL_ID,
        ],
    )
    opportunity = ObjectDef(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        [
            *_system(),
            _s("Name", 120, required=True, nillable=False, name_field=True),
            _ref("AccountId", "Account"),
            _pick("StageName", *STAGES, required=True, nillable=False),
            FieldDef("CloseDate", "date", required=True, nillable=False),
            FieldDef("Amount", "currency"),
            FieldDef("Probability", "percent"),
            _ro("ExpectedRevenue", "currency"),
            _ro("IsClosed", "boolean", nillable=False),
            _ro("IsWon", "boolean", nillable=False),
            _pick("ForecastCategoryName", "Pipeline", "Best Case", "Commit", "Closed", "Omitted"),
            _ro("ForecastCategory", "picklist", length=40),
            _pick("Type", "New Business", "Existing Business", "Renewal"),
            _pick("LeadSource", "Web", "Referral", "Partner", "Event", "Other"),
            _s("NextStep"),
            FieldDef("Description", "textarea", length=32000),
            _ref("Pricebook2Id", "Pricebook2"),
            _ro("HasOpportunityLineItem", "boolean", nillable=False),
            _ro("FiscalYear", "int"),
            _ro("FiscalQuarter", "int"),
            FieldDef("Delivery_Start__c", "date"),
            FieldDef("Requested_Start__c", "date"),
            FieldDef("PSA_Project_Id__c", "string", length=64, external_id=True, unique=True),
            FieldDef("ERP_Project_Code__c", "string", length=64, external_id=True),
            SYNC_STATUS,
            SERVICE_CATEGORY,
            EXTERNAL_ID,
        ],
    )
    line_item = ObjectDef(
        "OpportunityLineItem",
        "Opportunity Product",
        "Opportunity Product",
        [
            *_system(owner=False),
            _ref("OpportunityId", "Opportunity", required=True, nillable=False, updateable=False),
            _ref("Product2Id", "Product2", updateable=False),
            _ref("PricebookEntryId", "PricebookEntry", updateable=False),
            _ro("Name", "string", length=376, name_field=True),
            FieldDef("Quantity", "double", required=True, nillable=False),
            FieldDef("UnitPrice", "currency"),
            FieldDef("TotalPrice", "currency"),
            _ro("ListPrice", "currency"),
            FieldDef("Discount", "percent"),
            FieldDef("ServiceDate", "date"),
            _s("Description"),
            SERVICE_CATEGORY,
            EXTERNAL_ID,
        ],
    )
    history = ObjectDef(
        "OpportunityHistory",
        "Opportunity History",
        "Opportunity History",
        [
            *_system(owner=False, modified=False),
            _ro(
                "OpportunityId",
                "reference",
                length=18,
                reference_to="Opportunity",
                relationship_name="Opportunity",
            ),
            _ro("StageName", "picklist", length=255),
            _ro("Amount", "currency"),
            _ro("ExpectedRevenue", "currency"),
            _ro("CloseDate", "date"),
            _ro("Probability", "percent"),
            _ro("ForecastCategory", "picklist", length=40),
            _ro("PrevAmount", "currency"),
            _ro("PrevCloseDate", "date"),
        ],
        createable=False,
        updateable=False,
        deletable=False,
    )
    product = ObjectDef(
        "Product2",
        "Product",
        "Products",
        [
            *_system(owner=False),
            _s("Name", required=True, nillable=False, name_field=True),
            _s("ProductCode"),
            FieldDef("Description", "textarea", length=4000),
            FieldDef("IsActive", "boolean", nillable=False),
            _pick("Family", "Consulting", "Implementation", "Managed Services", "Training"),
            _s("QuantityUnitOfMeasure"),
            SERVICE_CATEGORY,
            EXTERNAL_ID,
        ],
    )
    pricebook = ObjectDef(
        "Pricebook2",
        "Price Book",
        "Price Books",
        [
            *_system(owner=False),
            _s("Name", required=True, nillable=False, name_field=True),
            FieldDef("IsActive", "boolean", nillable=False),
            FieldDef("IsStandard", "boolean", nillable=False, createable=False, updateable=False),
            EXTERNAL_ID,
        ],
    )
    entry = ObjectDef(
        "PricebookEntry",
        "Price Book Entry",
        "Price Book Entries",
        [
            *_system(owner=False),
            _ref("Pricebook2Id", "Pricebook2", required=True, nillable=False, updateable=False),
            _ref("Product2Id", "Product2", required=True, nillable=False, updateable=False),
            FieldDef("UnitPrice", "currency", required=True, nillable=False),
            FieldDef("IsActive", "boolean", nillable=False),
            EXTERNAL_ID,
        ],
    )
    user = ObjectDef(
        "User",
        "User",
        "Users",
        [
            *_system(owner=False),
            _s("Username", 80, required=True, nillable=False, unique=True),
            _s("FirstName", 40),
            _s("LastName", 80, required=True, nillable=False),
            _ro("Name", "string", length=121, name_field=True),
            FieldDef("Email", "email", length=128, required=True, nillable=False),
            _s("Alias", 8, required=True, nillable=False),
            FieldDef("IsActive", "boolean", nillable=False),
            _s("Title", 80),
            _s("Department", 80),
            _ref("ManagerId", "User"),
            EXTERNAL_ID,
        ],
        deletable=False,
    )
    # Object Reference, "OpportunityFieldHistory": one row per change of a tracked field (and a
    # "created" row), OldValue/NewValue of type anyType; no SystemModstamp or LastModifiedDate.
    field_history = ObjectDef(
        "OpportunityFieldHistory",
        "Opportunity Field History",
        "Opportunity Field History",
        [
            _ro("Id", "id", length=18, nillable=False),
            _ro("IsDeleted", "boolean", nillable=False),
            _ro("CreatedDate", "datetime", nillable=False),
            _ro("CreatedById", "reference", reference_to="User", relationship_name="CreatedBy"),
            _ro(
                "OpportunityId",
                "reference",
                length=18,
                reference_to="Opportunity",
                relationship_name="Opportunity",
            ),
            _ro("Field", "picklist", length=255, picklist=TRACKED_FIELDS),
            _ro("DataType", "picklist", length=255, picklist=HISTORY_DATA_TYPES),
            _ro("OldValue", "anyType"),
            _ro("NewValue", "anyType"),
        ],
        createable=False,
        updateable=False,
        deletable=False,
    )
    return [
        account,
        contact,
        opportunity,
        line_item,
        history,
        field_history,
        product,
        pricebook,
        entry,
        user,
    ]


class Catalog:
    """All objects by (case-insensitive) name; one per emulator, since seeding may add fields."""

    def __init__(self) -> None:
        self.objects = {o.name: o for o in _objects()}
        self._index = {o.name.lower(): o for o in self.objects.values()}

    def get(self, name: str) -> ObjectDef | None:
        return self._index.get(name.lower())

    def add(self, obj: ObjectDef, key_prefix: str) -> None:
        """Serve a custom object (e.g. Certinia's ``pse__Proj__c``) with its 3-character key
        prefix. Prefixes are fixed per object across an org, so the table of them is shared."""
        if len(key_prefix) != 3:
            raise ValueError(f"key prefix {key_prefix!r} must have 3 characters")
        known = KEY_PREFIXES.setdefault(obj.name, key_prefix)
        if known != key_prefix:
            raise ValueError(f"{obj.name} already has key prefix {known}")
        self.objects[obj.name] = obj
        self._index[obj.name.lower()] = obj

    def indexed_fields(self, name: str) -> list[str]:
        """Fields looked up by value: external IDs, unique fields, and cascade parent links."""
        obj = self.objects.get(name)
        if obj is None:
            return []
        fields = [f.name for f in obj.fields if f.external_id or f.unique]
        for parent, child in CASCADES:
            if child == name:
                fields += [f.name for f in obj.fields if f.reference_to == parent]
        return fields

    def children(self, parent: str, version: str) -> list[dict[str, object]]:
        """childRelationships of `parent` for describe."""
        out: list[dict[str, object]] = []
        for obj in self.objects.values():
            for f in obj.fields:
                if f.reference_to == parent and f.name not in _AUDIT_REFERENCES:
                    out.append(
                        {
                            "childSObject": obj.name,
                            "field": f.name,
                            "cascadeDelete": (parent, obj.name) in CASCADES,
                            "relationshipName": None,
                        }
                    )
        return out


_AUDIT_REFERENCES = frozenset({"CreatedById", "LastModifiedById", "OwnerId"})

# (parent, child) pairs whose children the platform deletes with the parent.
CASCADES: frozenset[tuple[str, str]] = frozenset(
    {
        ("Account", "Contact"),
        ("Account", "Opportunity"),
        ("Opportunity", "OpportunityLineItem"),
        ("Opportunity", "OpportunityHistory"),
        ("Opportunity", "OpportunityFieldHistory"),
    }
)
