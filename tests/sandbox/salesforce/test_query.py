"""SOQL through simple-salesforce against a seeded org: paging, filters, ordering, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration

ACCOUNTS = 4500
TODAY = dt.datetime.now(dt.UTC).date()


def _view() -> dict[str, list[dict[str, object]]]:
    accounts: list[dict[str, object]] = [
        {
            "Id": None if i % 2 else f"00100000000{i:04d}",  # 15-char Ids, or none
            "Name": f"Account {i:05d}",
            "Industry": ("Consulting", "Finance", "Retail")[i % 3],
            "AnnualRevenue": i * 1000,
            "External_Id__c": f"ACC-{i}",
            "BillingCountry": None if i % 10 == 0 else "DE",
        }
        for i in range(ACCOUNTS)
    ]
    accounts[0] = {**accounts[0], "Id": "0015g00000SeedA", "Name": "O'Brien & Sons"}
    close = [TODAY, TODAY - dt.timedelta(days=1), dt.date(2025, 3, 15), TODAY.replace(day=1)]
    opportunities: list[dict[str, object]] = [
        {
            "Name": f"Opp {i}",
            "StageName": ("Prospecting", "Closed Won", "Negotiation/Review", "Closed Lost")[i % 4],
            "CloseDate": close[i % 4].isoformat(),
            "Amount": 100 * i,
            "AccountId": "0015g00000SeedA",
            "LastModifiedDate": "2026-01-02T03:04:05Z",
        }
        for i in range(40)
    ]
    return {"Account": accounts, "Opportunity": opportunities}


@pytest.fixture(scope="module")
def emulator() -> Iterator[SalesforceEmulator]:
    running = SalesforceEmulator(id_seed=11)
    running.start()
    try:
        running.seed(_view())
        yield running
    finally:
        running.stop()


def _names(sf: Salesforce, soql: str) -> list[str]:
    return [r["Name"] for r in sf.query_all(soql)["records"]]


def test_query_pages_2000_records_behind_next_records_url(sf: Salesforce) -> None:
    first = sf.query("SELECT Id, Name FROM Account WHERE Name LIKE 'Account%'")
    assert first["totalSize"] == ACCOUNTS - 1
    assert first["done"] is False and len(first["records"]) == 2000
    next_url = first["nextRecordsUrl"]
    assert next_url.startswith("/services/data/v59.0/query/01g") and next_url.endswith("-2000")
    second = sf.query_more(next_url, identifier_is_url=True)
    assert len(second["records"]) == 2000
    locator = second["nextRecordsUrl"].rsplit("/", 1)[1]
    third = sf.query_more(locator)
    assert third["done"] is True and "nextRecordsUrl" not in third
    assert len(third["records"]) == ACCOUNTS - 1 - 4000
    everything = sf.query_all("SELECT Id FROM Account WHERE Name LIKE 'Account%'")
    ids = [r["Id"] for r in everything["records"]]
    assert len(ids) == len(set(ids)) == ACCOUNTS - 1
    assert all(len(i) == 18 and i.startswith("001") for i in ids)


def test_records_carry_attributes(sf: Salesforce) -> None:
    record = sf.query("SELECT Id, Name FROM Account WHERE External_Id__c = 'ACC-0'")["records"][0]
    assert record["Name"] == "O'Brien & Sons"
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{record['Id']}",
    }


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'o\\'brien & sons'", 1),  # = is case-insensitive; escaped quote
        ("Industry = 'Finance' AND AnnualRevenue >= 4000000", 167),
        ("(Industry = 'Finance' OR Industry = 'Retail') AND AnnualRevenue < 30000", 20),
        ("NOT Industry = 'Consulting'", 3000),
        ("Industry IN ('Finance', 'Retail')", 3000),
        ("Industry NOT IN ('Finance', 'Retail')", 1500),
        ("BillingCountry = null", 450),
        ("BillingCountry != null", 4050),
        ("Name LIKE 'Account 0001_'", 10),
        ("Name LIKE '%brien%'", 1),
        ("External_Id__c IN ('ACC-1', 'ACC-2', 'missing')", 2),
        ("AnnualRevenue > 4498000.5", 1),
    ],
)
def test_where_clauses(sf: Salesforce, where: str, expected: int) -> None:
    result = sf.query_all(f"SELECT Id FROM Account WHERE {where}")
    assert result["totalSize"] == expected


def test_count_order_limit_offset(sf: Salesforce) -> None:
    assert sf.query("SELECT COUNT() FROM Account WHERE Industry = 'Retail'")["totalSize"] == 1500
    top = _names(sf, "SELECT Name FROM Account ORDER BY AnnualRevenue DESC LIMIT 3")
    assert top == ["Account 04499", "Account 04498", "Account 04497"]
    page = _names(sf, "SELECT Name FROM Account ORDER BY Name ASC LIMIT 2 OFFSET 1")
    assert page == ["Account 00002", "Account 00003"]  # "Account 00000" was renamed O'Brien
    nulls_last = sf.query(
        "SELECT BillingCountry FROM Account ORDER BY BillingCountry ASC NULLS LAST LIMIT 1"
    )
    assert nulls_last["records"][0]["BillingCountry"] == "DE"
    nulls_first = sf.query("SELECT BillingCountry FROM Account ORDER BY BillingCountry LIMIT 1")
    assert nulls_first["records"][0]["BillingCountry"] is None


def test_relationship_paths_in_select_and_where(sf: Salesforce) -> None:
    rows = sf.query_all(
        "SELECT Name, Account.Name, Account.Industry FROM Opportunity"
        " WHERE Account.External_Id__c = 'ACC-0' AND IsWon = true"
    )["records"]
    assert len(rows) == 10
    assert rows[0]["Account"]["Name"] == "O'Brien & Sons"
    assert rows[0]["Account"]["attributes"]["type"] == "Account"


def test_date_and_datetime_literals(sf: Salesforce) -> None:
    def count(where: str) -> int:
        return int(sf.query_all(f"SELECT Id FROM Opportunity WHERE {where}")["totalSize"])

    assert count("CloseDate = TODAY") == 10 + (10 if TODAY.day == 1 else 0)
    assert count("CloseDate = YESTERDAY") == 10 + (10 if TODAY.day == 2 else 0)
    first_of_month_recent = (TODAY - TODAY.replace(day=1)).days <= 3
    assert count("CloseDate = LAST_N_DAYS:3") == 20 + (10 if first_of_month_recent else 0)
    assert count("CloseDate = LAST_N_DAYS:3 AND CloseDate != TODAY") == 10 + (
        10 if first_of_month_recent and TODAY.day != 1 else 0
    )
    assert count("CloseDate = THIS_MONTH") >= 20
    assert count("CloseDate < 2025-04-01") == 10
    assert count("CloseDate >= 2025-03-15 AND CloseDate <= 2025-03-15") == 10
    assert count("SystemModstamp > 2026-01-01T00:00:00Z") == 40
    assert count("SystemModstamp > 2026-01-02T03:04:05.000+0000") == 0
    assert count("LastModifiedDate = LAST_N_DAYS:2") == 0


def test_stage_fields_are_derived_for_seeded_opportunities(sf: Salesforce) -> None:
    won = sf.query("SELECT COUNT() FROM Opportunity WHERE IsClosed = true AND IsWon = false")
    assert won["totalSize"] == 10
    probabilities = {
        r["StageName"]: r["Probability"]
        for r in sf.query_all("SELECT StageName, Probability FROM Opportunity")["records"]
    }
    assert probabilities == {
        "Prospecting": 10,
        "Closed Won": 100,
        "Negotiation/Review": 90,
        "Closed Lost": 0,
    }


def test_query_all_includes_deleted_rows(sf: Salesforce) -> None:
    target = sf.query("SELECT Id FROM Account WHERE External_Id__c = 'ACC-7'")["records"][0]["Id"]
    sf.Account.delete(target)
    assert sf.query("SELECT Id FROM Account WHERE Id = '" + target + "'")["totalSize"] == 0
    rows = sf.query_all(
        f"SELECT Id, IsDeleted FROM Account WHERE Id = '{target}'", include_deleted=True
    )["records"]
    assert rows == [
        {
            "attributes": {
                "type": "Account",
                "url": f"/services/data/v59.0/sobjects/Account/{target}",
            },
            "Id": target,
            "IsDeleted": True,
        }
    ]


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Id FORM Account", "MALFORMED_QUERY", "unexpected token: 'FORM'"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
        (
            "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
            "MALFORMED_QUERY",
            "'OR'",
        ),
        (
            "SELECT Id, Bogus__c FROM Account",
            "INVALID_FIELD",
            "No such column 'Bogus__c' on entity 'Account'",
        ),
        ("SELECT Id FROM Account WHERE Nmae = 'x'", "INVALID_FIELD", "No such column 'Nmae'"),
        ("SELECT Id FROM Invoice__c", "INVALID_TYPE", "sObject type 'Invoice__c' is not supported"),
        (
            "SELECT Id FROM Opportunity WHERE CloseDate = '2026-01-01'",
            "MALFORMED_QUERY",
            "must be of type date",
        ),
        ("SELECT Id FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY", "unterminated"),
    ],
)
def test_query_errors(sf: Salesforce, soql: str, code: str, fragment: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    error = caught.value.content[0]
    assert error["errorCode"] == code
    assert fragment in error["message"]


def test_invalid_field_error_points_at_the_column(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id, Bogus__c FROM Account")
    assert "ERROR at Row:1:Column:12" in caught.value.content[0]["message"]


def test_unknown_query_locator(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("01g000000000000AAA-2000")
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
