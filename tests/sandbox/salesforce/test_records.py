"""sObject resources through simple-salesforce: CRUD, upsert, describe, change capture."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from pssync.sandbox.salesforce import SalesforceEmulator
from pssync.sandbox.salesforce.ids import checksum

pytestmark = pytest.mark.integration
Connect = Callable[..., Salesforce]

SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def _opportunity(sf: Salesforce, **fields: object) -> str:
    body = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-09-30", **fields}
    return str(sf.Opportunity.create(body)["id"])


def test_create_assigns_prefixed_18_char_id_and_system_fields(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Acme Consulting"})["id"]
    contact_id = sf.Contact.create({"LastName": "Doe", "AccountId": account_id})["id"]
    product_id = sf.Product2.create({"Name": "Advisory"})["id"]
    assert (account_id[:3], contact_id[:3], product_id[:3]) == ("001", "003", "01t")
    assert len(account_id) == 18 and account_id[15:] == checksum(account_id[:15])
    record = sf.Account.get(account_id)
    for stamp in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert SF_DATETIME.match(record[stamp]), record[stamp]
    assert record["IsDeleted"] is False
    assert record["OwnerId"].startswith("005")


def test_update_moves_last_modified_and_get_supports_fields(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Before"})["id"]
    created = sf.Account.get(account_id)["SystemModstamp"]
    assert sf.Account.update(account_id, {"Name": "After", "NumberOfEmployees": 12}) == 204
    record = sf.Account.get(account_id)
    assert record["Name"] == "After" and record["NumberOfEmployees"] == 12
    assert record["SystemModstamp"] >= created
    slim = sf.Account.get(account_id, params={"fields": "Name,numberofemployees"})
    assert set(slim) == {"attributes", "Name", "NumberOfEmployees"}


def test_delete_then_get_reports_entity_deleted(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Doomed"})["id"]
    assert sf.Account.delete(account_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Account.get(account_id)
    assert caught.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_upsert_by_external_id_creates_then_updates(
    emulator: SalesforceEmulator, connect: Connect
) -> None:
    sf = connect(emulator)
    created = sf.Account.upsert("External_Id__c/UP-1", {"Name": "Upserted"}, raw_response=True)
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": True,
    }
    updated = sf.Account.upsert("External_Id__c/UP-1", {"Name": "Renamed"}, raw_response=True)
    assert updated.status_code == 200 and updated.json()["created"] is False
    assert updated.json()["id"] == created.json()["id"]
    # Before API version 46.0 an update by upsert answers 204 without a body.
    legacy = connect(emulator, version="45.0")
    assert legacy.Account.upsert("External_Id__c/up-1", {"Name": "Again"}) == 204
    record = sf.Account.get_by_custom_id("External_Id__c", "UP-1")
    assert record["Name"] == "Again" and record["External_Id__c"] == "UP-1"


def test_upsert_matching_several_records_answers_300(sf: Salesforce) -> None:
    for name in ("Twin A", "Twin B"):
        sf.Account.create({"Name": name, "ERP_Customer_Id__c": "C-42"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Account.upsert("ERP_Customer_Id__c/C-42", {"Name": "Which?"})
    assert caught.value.status == 300
    assert len(caught.value.content) == 2
    assert all(
        url.startswith("/services/data/v59.0/sobjects/Account/001") for url in caught.value.content
    )


def test_upsert_on_a_field_that_is_not_an_external_id_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.upsert("Name/Acme", {"Phone": "1"})


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"Name": "X", "Bogus__c": 1}, "INVALID_FIELD", ["Bogus__c"]),
        ({"Name": "X", "IsDeleted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsDeleted"]),
        ({"Phone": "1"}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"Name": "x" * 256}, "STRING_TOO_LONG", ["Name"]),
        (
            {"Name": "X", "ParentId": "003000000000000AAA"},
            "FIELD_INTEGRITY_EXCEPTION",
            ["ParentId"],
        ),
    ],
)
def test_invalid_writes_use_documented_error_codes(
    sf: Salesforce, body: dict[str, object], code: str, fields: list[str]
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.create(body)
    error = caught.value.content[0]
    assert error["errorCode"] == code
    assert error["fields"] == fields


def test_opportunity_requires_name_stage_and_close_date(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.create({"Amount": 10})
    assert caught.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert caught.value.content[0]["fields"] == ["Name", "StageName", "CloseDate"]


def test_duplicate_unique_external_id_is_rejected(sf: Salesforce) -> None:
    first = sf.Account.create({"Name": "One", "External_Id__c": "DUP-1"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.create({"Name": "Two", "External_Id__c": "dup-1"})
    error = caught.value.content[0]
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert first in error["message"]


@pytest.mark.parametrize(
    ("stage", "probability", "closed", "won", "category"),
    [
        ("Prospecting", 10, False, False, "Pipeline"),
        ("Needs Analysis", 20, False, False, "Pipeline"),
        ("Id. Decision Makers", 60, False, False, "Pipeline"),
        ("Proposal/Price Quote", 75, False, False, "Pipeline"),
        ("Negotiation/Review", 90, False, False, "Pipeline"),
        ("Closed Won", 100, True, True, "Closed"),
        ("Closed Lost", 0, True, False, "Omitted"),
    ],
)
def test_stage_derives_probability_and_flags(
    sf: Salesforce, stage: str, probability: int, closed: bool, won: bool, category: str
) -> None:
    record = sf.Opportunity.get(_opportunity(sf, StageName=stage, Amount=1000))
    assert record["Probability"] == probability
    assert (record["IsClosed"], record["IsWon"]) == (closed, won)
    assert record["ForecastCategoryName"] == category
    assert record["ExpectedRevenue"] == 1000 * probability / 100


def test_explicit_probability_is_kept_and_reset_on_stage_change(sf: Salesforce) -> None:
    opp_id = _opportunity(sf, Probability=35)
    assert sf.Opportunity.get(opp_id)["Probability"] == 35
    sf.Opportunity.update(opp_id, {"StageName": "Value Proposition"})
    assert sf.Opportunity.get(opp_id)["Probability"] == 50


def test_tracked_changes_write_opportunity_history(sf: Salesforce) -> None:
    opp_id = _opportunity(sf, Amount=100)
    sf.Opportunity.update(opp_id, {"Amount": 250})
    sf.Opportunity.update(opp_id, {"NextStep": "call"})  # untracked: no row
    sf.Opportunity.update(opp_id, {"StageName": "Closed Won"})
    rows = sf.query(
        "SELECT StageName, Amount, Probability, PrevAmount FROM OpportunityHistory"
        f" WHERE OpportunityId = '{opp_id}' ORDER BY CreatedDate, Id"
    )["records"]
    assert [(r["StageName"], r["Amount"], r["Probability"]) for r in rows] == [
        ("Prospecting", 100, 10),
        ("Prospecting", 250, 10),
        ("Closed Won", 250, 100),
    ]
    assert rows[1]["PrevAmount"] == 100


def test_line_items_roll_up_and_cascade_on_delete(sf: Salesforce) -> None:
    opp_id = _opportunity(sf, Amount=1)
    product_id = sf.Product2.create({"Name": "Architect day"})["id"]
    item = {"OpportunityId": opp_id, "Product2Id": product_id, "Quantity": 3, "UnitPrice": 1200}
    line_id = sf.OpportunityLineItem.create(item)["id"]
    assert line_id.startswith("00k")
    assert sf.OpportunityLineItem.get(line_id)["TotalPrice"] == 3600
    opp = sf.Opportunity.get(opp_id)
    assert opp["Amount"] == 3600 and opp["HasOpportunityLineItem"] is True
    sf.Opportunity.delete(opp_id)
    deleted = sf.query_all(
        f"SELECT Id, IsDeleted FROM OpportunityLineItem WHERE Id = '{line_id}'",
        include_deleted=True,
    )["records"]
    assert deleted[0]["IsDeleted"] is True


def test_parent_reference_by_external_id(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Parent", "External_Id__c": "PARENT-1"})["id"]
    opp_id = _opportunity(sf, Account={"External_Id__c": "PARENT-1"})
    assert sf.Opportunity.get(opp_id)["AccountId"] == account_id


def test_describe_lists_fields_and_custom_external_ids(sf: Salesforce) -> None:
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "User"} <= set(
        names
    )
    assert names["OpportunityHistory"]["keyPrefix"] == "008"
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert fields["PSA_Project_Id__c"]["externalId"] is True
    assert fields["PSA_Project_Id__c"]["custom"] is True
    assert fields["Delivery_Start__c"]["type"] == "date"
    assert fields["StageName"]["nillable"] is False
    assert fields["IsWon"]["updateable"] is False
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    stages = [p["value"] for p in fields["StageName"]["picklistValues"]]
    assert stages[0] == "Prospecting" and "Closed Won" in stages
    for obj in ("Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "User"):
        described = {f["name"] for f in getattr(sf, obj).describe()["fields"]}
        assert "External_Id__c" in described


def test_get_updated_and_get_deleted(sf: Salesforce) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    kept = sf.Contact.create({"LastName": "Kept"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)  # past the call: cut to the call
    updated = sf.Contact.updated(start, end)
    assert SF_DATETIME.match(updated["latestDateCovered"])
    deleted = sf.Contact.deleted(start, end)
    assert {"earliestDateAvailable", "latestDateCovered"} <= set(deleted)
    # The window ends on the call's minute: what happened in this minute comes next minute.
    covered = deleted["latestDateCovered"]
    assert covered.endswith(":00.000+0000")
    if gone in [r["id"] for r in deleted["deletedRecords"]]:
        assert SF_DATETIME.match(deleted["deletedRecords"][0]["deletedDate"])
    before = sf.Contact.updated(start - dt.timedelta(days=1), start - dt.timedelta(hours=1))
    assert kept not in before["ids"]


def test_unknown_object_and_wrong_id_are_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Invoice__c.create({"Name": "x"})
    contact_id = sf.Contact.create({"LastName": "Prefix"})["id"]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(contact_id)


def test_seed_fills_ids_learns_custom_fields_and_loads_deleted_rows(
    emulator: SalesforceEmulator, sf: Salesforce
) -> None:
    emulator.seed(
        {
            "Account": [
                {"Name": "Seeded", "Region__c": "EMEA", "External_Id__c": "SEED-1"},
                {"Name": "Seeded gone", "External_Id__c": "SEED-2", "IsDeleted": True},
            ]
        }
    )
    live = sf.query("SELECT Id, Region__c FROM Account WHERE External_Id__c LIKE 'SEED-%'")
    assert [r["Region__c"] for r in live["records"]] == ["EMEA"]
    assert live["records"][0]["Id"].startswith("001")
    everything = sf.query_all(
        "SELECT IsDeleted FROM Account WHERE External_Id__c LIKE 'SEED-%'", include_deleted=True
    )
    assert sorted(r["IsDeleted"] for r in everything["records"]) == [False, True]
    with pytest.raises(ValueError, match="no object 'Invoice__c'"):
        emulator.seed({"Invoice__c": [{"Name": "x"}]})
    with pytest.raises(ValueError, match="not a Account Id"):
        emulator.seed({"Account": [{"Id": "003000000000000AAA", "Name": "wrong prefix"}]})
