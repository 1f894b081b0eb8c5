"""Per-system views speak each vendor's field names and ID formats."""

from __future__ import annotations

import json

import pytest

from pssync.sandbox.firm import Firm
from pssync.sandbox.firm.ids import SF_PREFIX, sf_case_suffix

OPPORTUNITY_FIELDS = """
Name StageName Probability Amount CloseDate CurrencyIsoCode CreatedDate SystemModstamp AccountId
Service_Category__c Requested_Start__c Delivery_Start__c PSA_Project_Id__c ERP_Customer_Id__c
Sync_Status__c
"""
SF_OBJECTS = (
    "Account",
    "Contact",
    "Opportunity",
    "OpportunityLineItem",
    "OpportunityHistory",
    "Product2",
    "User",
)


def test_views_are_json_records(firm: Firm) -> None:
    for objects in firm.views.values():
        for records in objects.values():
            assert records
            for r in records[:50]:
                assert isinstance(r, dict)
                json.dumps(r)


@pytest.mark.parametrize("obj", SF_OBJECTS)
def test_salesforce_ids_have_prefix_and_case_suffix(firm: Firm, obj: str) -> None:
    for r in firm.views["salesforce"][obj]:
        sid = r["Id"]
        assert len(sid) == 18 and sid.startswith(SF_PREFIX[obj])
        assert sid[15:] == sf_case_suffix(sid[:15])
        assert r["SystemModstamp"].endswith("Z")


def test_salesforce_opportunity_fields(firm: Firm) -> None:
    accounts = {r["Id"] for r in firm.views["salesforce"]["Account"]}
    fields = set(OPPORTUNITY_FIELDS.split())
    for r in firm.views["salesforce"]["Opportunity"]:
        assert fields <= set(r)
        assert r["AccountId"] in accounts


def test_kantata_ids_are_digit_strings_and_links_resolve(firm: Firm) -> None:
    kantata = firm.views["kantata"]
    for records in kantata.values():
        assert all(isinstance(r["id"], str) and r["id"].isdigit() for r in records)
    workspaces = {r["id"] for r in kantata["workspaces"]}
    users = {r["id"] for r in kantata["users"]}
    stories = {r["id"] for r in kantata["stories"]}
    for t in kantata["time_entries"]:
        assert (
            t["workspace_id"] in workspaces and t["user_id"] in users and t["story_id"] in stories
        )
        assert t["time_in_minutes"] % 15 == 0 and t["rate_in_cents"] > 0
        assert set(t) >= {"date_performed", "billable", "updated_at"}


def test_netsuite_sap_and_filedrop_field_names(firm: Firm) -> None:
    customer = firm.views["netsuite"]["customer"][0]
    assert {
        "entityId",
        "companyName",
        "subsidiary",
        "terms",
        "externalId",
        "lastModifiedDate",
    } <= set(customer)
    assert {"tranId", "entity", "tranDate", "total", "lastModifiedDate"} <= set(
        firm.views["netsuite"]["invoice"][0]
    )
    assert {"custbody_pssync_kind", "line"} <= set(firm.views["netsuite"]["journalentry"][0])
    sap = firm.views["sap_s4"]
    assert {"BusinessPartner", "BusinessPartnerFullName"} <= set(sap["A_BusinessPartner"][0])
    assert {
        "Project",
        "ProjectDescription",
        "ProjectStartDate",
        "ProjectEndDate",
        "LastChangeDateTime",
    } <= set(sap["A_EnterpriseProject"][0])
    bill = sap["A_BillingDocument"][0]
    assert {
        "BillingDocument",
        "SoldToParty",
        "TotalNetAmount",
        "TransactionCurrency",
        "BillingDocumentDate",
    } <= set(bill)
    for rows in firm.views["filedrop"].values():
        assert all(isinstance(v, str) for r in rows for v in r.values())


def test_each_legal_entity_books_in_its_own_erp(firm: Firm) -> None:
    currencies = {r["TransactionCurrency"] for r in firm.views["sap_s4"]["A_BillingDocument"]}
    assert currencies == {"EUR"}
    assert {r["currency"] for r in firm.views["filedrop"]["invoices"]} == {"AUD"}
    assert {r["currency"]["refName"] for r in firm.views["netsuite"]["invoice"]} == {"USD"}


def test_servicenow_has_a_group_for_every_owner_the_demo_routes_to(firm: Firm) -> None:
    """Incidents for exceptions are assigned to the owner's group by sys_id: each owner the
    demo's routing names must exist as a `sys_user_group` of the firm's instance."""
    from pssync.demo.config import OWNERS

    groups = {row["name"]: row["sys_id"] for row in firm.views["servicenow"]["sys_user_group"]}
    assert set(OWNERS.values()) | {"integration-team"} <= set(groups)  # + the default owner
    assert all(len(sys_id) == 32 and int(sys_id, 16) >= 0 for sys_id in groups.values())
