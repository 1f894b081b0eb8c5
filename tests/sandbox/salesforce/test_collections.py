"""sObject Collections and Composite, sent through simple-salesforce's `restful` helper."""

from __future__ import annotations

import json
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

pytestmark = pytest.mark.integration


def _call(sf: Salesforce, method: str, path: str, body: Any = None, **params: str) -> Any:
    data = None if body is None else json.dumps(body)
    return sf.restful(path, method=method, data=data, params=params or None)


def _accounts(n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "attributes": {"type": "Account"},
            "Name": f"{prefix} {i}",
            "External_Id__c": f"{prefix}-{i}",
        }
        for i in range(n)
    ]


def test_upsert_200_records_creates_then_updates(sf: Salesforce) -> None:
    records = _accounts(200, "BULK")
    created = _call(sf, "PATCH", "composite/sobjects/Account/External_Id__c", {"records": records})
    assert len(created) == 200
    assert all(r["success"] and r["created"] and r["errors"] == [] for r in created)
    assert all(r["id"].startswith("001") for r in created)
    for record in records:
        record["Industry"] = "Finance"
    updated = _call(
        sf,
        "PATCH",
        "composite/sobjects/Account/External_Id__c",
        {"allOrNone": True, "records": records},
    )
    assert [r["id"] for r in updated] == [r["id"] for r in created]
    assert not any(r["created"] for r in updated)
    count = sf.query(
        "SELECT COUNT() FROM Account WHERE External_Id__c LIKE 'BULK-%' AND Industry = 'Finance'"
    )
    assert count["totalSize"] == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "composite/sobjects/Account/External_Id__c"), ("POST", "composite/sobjects")],
)
def test_more_than_200_records_are_rejected(sf: Salesforce, method: str, path: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        _call(sf, method, path, {"records": _accounts(201, f"TOO-MANY-{method}")})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    leaked = sf.query(f"SELECT COUNT() FROM Account WHERE External_Id__c LIKE 'TOO-MANY-{method}%'")
    assert leaked["totalSize"] == 0


def test_create_all_or_none_rolls_everything_back(sf: Salesforce) -> None:
    records = _accounts(3, "AON")
    records[1] = {"attributes": {"type": "Account"}, "Phone": "no name"}
    results = _call(sf, "POST", "composite/sobjects", {"allOrNone": True, "records": records})
    assert [r["success"] for r in results] == [False, False, False]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert (
        sf.query("SELECT COUNT() FROM Account WHERE External_Id__c LIKE 'AON-%'")["totalSize"] == 0
    )


def test_create_without_all_or_none_keeps_the_valid_records(sf: Salesforce) -> None:
    records = _accounts(3, "PART")
    records[2]["Bogus__c"] = "x"
    results = _call(sf, "POST", "composite/sobjects", {"records": records})
    assert [r["success"] for r in results] == [True, True, False]
    assert results[2]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert (
        sf.query("SELECT COUNT() FROM Account WHERE External_Id__c LIKE 'PART-%'")["totalSize"] == 2
    )


def test_update_and_delete_collections(sf: Salesforce) -> None:
    ids = [
        r["id"] for r in _call(sf, "POST", "composite/sobjects", {"records": _accounts(3, "UPD")})
    ]
    changes = [{"attributes": {"type": "Account"}, "Id": i, "Phone": "555"} for i in ids]
    assert all(r["success"] for r in _call(sf, "PATCH", "composite/sobjects", {"records": changes}))
    phones = sf.query("SELECT Phone FROM Account WHERE External_Id__c LIKE 'UPD-%'")["records"]
    assert [p["Phone"] for p in phones] == ["555"] * 3
    deleted = _call(sf, "DELETE", "composite/sobjects", ids=",".join(ids[:2]), allOrNone="false")
    assert [(r["id"], r["success"]) for r in deleted] == [(ids[0], True), (ids[1], True)]
    assert (
        sf.query("SELECT COUNT() FROM Account WHERE External_Id__c LIKE 'UPD-%'")["totalSize"] == 1
    )


def test_upsert_collection_reports_duplicates_in_the_request(sf: Salesforce) -> None:
    records = _accounts(2, "TWICE")
    records[1]["External_Id__c"] = records[0]["External_Id__c"]
    results = _call(sf, "PATCH", "composite/sobjects/Account/External_Id__c", {"records": records})
    assert [r["success"] for r in results] == [False, False]
    assert results[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"


def test_composite_chains_references(sf: Salesforce) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Composite Co"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Opportunity",
                "referenceId": "opp",
                "body": {
                    "Name": "Composite deal",
                    "StageName": "Qualification",
                    "CloseDate": "2026-12-31",
                    "AccountId": "@{acct.id}",
                },
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/query?q=SELECT+Id,+AccountId+FROM+Opportunity"
                "+WHERE+Id+=+'@{opp.id}'",
                "referenceId": "check",
            },
        ],
    }
    responses = _call(sf, "POST", "composite", body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in responses] == [201, 201, 200]
    account_id = responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"]["Location"].endswith(f"/sobjects/Account/{account_id}")
    assert responses[2]["body"]["records"][0]["AccountId"] == account_id


def test_composite_all_or_none_failure_rolls_back_earlier_subrequests(sf: Salesforce) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Rolled back", "External_Id__c": "ROLLBACK-1"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Opportunity",
                "referenceId": "bad",
                "body": {"Name": "Missing stage", "AccountId": "@{ok.id}"},
            },
            {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "after"},
        ],
    }
    responses = _call(sf, "POST", "composite", body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 400]
    assert responses[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert responses[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert (
        sf.query("SELECT COUNT() FROM Account WHERE External_Id__c = 'ROLLBACK-1'")["totalSize"]
        == 0
    )
