"""Bulk API 2.0 query and ingest jobs, driven by simple-salesforce's `bulk2` client.

Bulk API 2.0 and Bulk API Developer Guide: query jobs (create, poll, CSV results paged by
``Sforce-Locator`` / ``maxRecords``) and ingest jobs (create, upload CSV, UploadComplete, poll,
successful/failed/unprocessed results).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def org() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(id_seed=21) as emu:
        assert isinstance(emu, SalesforceEmulator)
        emu.seed(
            {"Account": [{"Name": f"Bulk {i:03d}", "NumberOfEmployees": i} for i in range(250)]}
        )
        yield emu


@pytest.fixture(scope="module")
def sf(org: SalesforceEmulator, connect: Callable[..., Salesforce]) -> Salesforce:
    return connect(org)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_query_job_pages_csv_by_locator(sf: Salesforce) -> None:
    soql = "SELECT Id, Name, NumberOfEmployees, Owner.Name FROM Account WHERE Name LIKE 'Bulk%'"
    pages = list(sf.bulk2.Account.query(soql, max_records=100, wait=0))
    assert [len(rows(p)) for p in pages] == [100, 100, 50]
    first = rows(pages[0])[0]
    assert list(first) == ["Id", "Name", "NumberOfEmployees", "Owner.Name"]
    assert first["Owner.Name"] == "pssync Integration" and first["NumberOfEmployees"].isdigit()
    assert pages[0].startswith('"Id","Name"')


def test_query_job_lifecycle_over_rest(sf: Salesforce) -> None:
    created = sf.restful(
        "jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Account"}
    )
    assert created["state"] == "UploadComplete" and created["id"].startswith("750")
    info = sf.restful(f"jobs/query/{created['id']}")
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] >= 250
    assert info["jobType"] == "V2Query"
    response = sf.session.get(
        f"{sf.base_url}jobs/query/{created['id']}/results",
        params={"maxRecords": 200},
        headers=sf.headers,
    )
    assert response.headers["Sforce-NumberOfRecords"] == "200"
    locator = response.headers["Sforce-Locator"]
    assert locator not in ("", "null")
    rest = sf.session.get(
        f"{sf.base_url}jobs/query/{created['id']}/results",
        params={"locator": locator, "maxRecords": 1000},
        headers=sf.headers,
    )
    assert rest.headers["Sforce-Locator"] == "null"
    assert len(rows(response.text)) + len(rows(rest.text)) == info["numberRecordsProcessed"]
    sf.restful(f"jobs/query/{created['id']}", method="DELETE")


def test_aggregate_queries_are_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "jobs/query",
            method="POST",
            json={"operation": "query", "query": "SELECT COUNT() FROM Account"},
        )


def test_ingest_job_reports_successes_and_failures(sf: Salesforce) -> None:
    records = [
        {"External_Id__c": "BULK-1", "Name": "Ingested one"},
        {"External_Id__c": "BULK-2", "Name": "Ingested two"},
        {"External_Id__c": "BULK-3", "Name": "#N/A"},  # Name is required: this one fails
    ]
    result = sf.bulk2.Account.upsert(records=records, external_id_field="External_Id__c", wait=0)
    (summary,) = result
    assert summary["numberRecordsProcessed"] == 3 and summary["numberRecordsFailed"] == 1
    ok = rows(sf.bulk2.Account.get_successful_records(summary["job_id"]))
    assert [r["External_Id__c"] for r in ok] == ["BULK-1", "BULK-2"]
    assert all(r["sf__Created"] == "true" and r["sf__Id"].startswith("001") for r in ok)
    (bad,) = rows(sf.bulk2.Account.get_failed_records(summary["job_id"]))
    assert bad["External_Id__c"] == "BULK-3" and bad["sf__Error"].startswith("REQUIRED_FIELD")
    again = sf.bulk2.Account.upsert(
        records=[{"External_Id__c": "BULK-1", "Name": "Renamed"}],
        external_id_field="External_Id__c",
        wait=0,
    )
    (row,) = rows(sf.bulk2.Account.get_successful_records(again[0]["job_id"]))
    assert row["sf__Created"] == "false"
    assert sf.Account.get_by_custom_id("External_Id__c", "BULK-1")["Name"] == "Renamed"


def test_record_count(sf: Salesforce) -> None:
    counts = sf.restful("limits/recordCount", params={"sObjects": "Account,Product2"})
    by_name = {c["name"]: c["count"] for c in counts["sObjects"]}
    assert by_name["Account"] >= 250 and by_name["Product2"] == 0
