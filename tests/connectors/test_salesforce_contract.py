"""Salesforce's own API examples (tests/fixtures/vendors/salesforce/, each naming its page): the
emulator answers the same requests in the same shape, and the connector parses the examples.

Shape, not values: the examples come from other orgs, so IDs and dates differ; what must match
is the envelope, every key, and each value's kind (18-character ID, ``.000+0000`` date-time,
number, text), as a client relying on the documentation would see them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.bulk2 import JobState

from pssync.connectors.salesforce.bulk import typed
from pssync.connectors.salesforce.deletes import DeleteReader
from pssync.connectors.salesforce.describes import describe_all
from pssync.connectors.salesforce.soql import flatten
from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures/vendors/salesforce"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
ID = re.compile(r"^[0-9A-Za-z]{18}$")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    assert data["source"].startswith("https://developer.salesforce.com/docs/")
    return data


def kind(value: Any) -> str:
    if isinstance(value, str) and STAMP.match(value):
        return "datetime"
    if isinstance(value, str) and ID.match(value):
        return "id"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def same_shape(ours: Any, theirs: Any, path: str = "") -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(ours) >= set(theirs), (path, ours, theirs)
        for key, value in theirs.items():
            same_shape(ours[key], value, f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and ours, (path, ours)
        for item in ours:
            same_shape(item, theirs[0], f"{path}[]")
    else:
        assert kind(ours) == kind(theirs), (path, ours, theirs)


class Clock:
    now = dt.datetime(2026, 5, 20, 10, 15, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="module")
def org() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(id_seed=9, clock=Clock()) as emu:
        assert isinstance(emu, SalesforceEmulator)
        emu.seed({"Account": [{"Name": "Test 1"}, {"Name": "Test 2"}]})
        yield emu


@pytest.fixture(scope="module")
def sf(org: SalesforceEmulator) -> Salesforce:
    assert org.tls is not None
    session = requests.Session()
    session.trust_env = False
    session.verify = str(org.tls.ca_file)
    creds = org.credentials()
    return Salesforce(
        instance_url=creds["instance_url"], session_id=creds["session_id"], session=session
    )


def call(sf: Salesforce, example: dict[str, Any], path: str | None = None) -> requests.Response:
    request = example["request"]
    url = sf.base_url.split("/services/")[0] + (path or request["path"])
    return sf.session.request(
        request["method"],
        url,
        params=request.get("params"),
        json=request.get("body"),
        headers=sf.headers,
    )


def test_get_deleted(sf: Salesforce, org: SalesforceEmulator) -> None:
    example = fixture("get_deleted")
    gone = sf.Account.create({"Name": "Deleted"})["id"]
    sf.Account.delete(gone)
    Clock.now += dt.timedelta(minutes=2)
    start = (Clock.now - dt.timedelta(days=1)).isoformat()
    answer = call(sf, example, "/services/data/v59.0/sobjects/Account/deleted/")
    assert answer.status_code == 400  # the example's 2013 window is older than 15 days
    assert answer.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    ours = sf.Account.deleted(dt.datetime.fromisoformat(start), Clock.now)
    same_shape(ours, example["response"]["body"])
    # The connector reads the example as Salesforce wrote it.
    reader = DeleteReader(
        lambda action: example["response"]["body"],
        lambda: dt.datetime(2013, 5, 10, tzinfo=dt.UTC),
    )
    found, cursor = reader.read("Merchandise__c", "2013-05-05T00:00:00+00:00")
    assert [(d.id, d.deleted_at.isoformat()) for d in found] == [
        ("a00D0000008pQRAIA2", "2013-05-07T22:07:19+00:00")
    ]
    assert cursor == "2013-05-08T21:20:00+00:00"


def test_query(sf: Salesforce) -> None:
    example = fixture("query")
    answer = call(sf, example, "/services/data/v59.0/query/")
    assert answer.status_code == example["response"]["status"]
    theirs = example["response"]["body"]
    ours = answer.json()
    same_shape(ours, {**theirs, "records": theirs["records"][:1]})
    assert {r["Name"] for r in ours["records"]} >= {"Test 1", "Test 2"}
    assert [flatten(r) for r in theirs["records"]] == [{"Name": "Test 1"}, {"Name": "Test 2"}]


def test_bulk2_query_job_lifecycle(sf: Salesforce) -> None:
    create, info, results = (
        fixture(n) for n in ("bulk2_create_query_job", "bulk2_get_query_job", "bulk2_query_results")
    )
    answer = call(sf, create, "/services/data/v59.0/jobs/query")
    assert answer.status_code == create["response"]["status"]
    ours = answer.json()
    assert set(ours) == set(create["response"]["body"])
    same_shape(ours, create["response"]["body"])
    assert JobState(ours["state"]) is JobState(create["response"]["body"]["state"])
    results_path = f"/services/data/v59.0/jobs/query/{ours['id']}/results"
    early = call(sf, results, results_path)
    assert early.status_code == results["error_response"]["status"]
    assert early.json()[0]["errorCode"] == results["error_response"]["body"][0]["errorCode"]
    polled = call(sf, info, f"/services/data/v59.0/jobs/query/{ours['id']}").json()
    assert set(polled) == set(info["response"]["body"])
    same_shape(polled, info["response"]["body"])
    page = call(sf, results, results_path)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/csv")
    assert page.headers["Sforce-Locator"] == results["response"]["headers"]["Sforce-Locator"]
    assert page.text.splitlines()[0] == results["response"]["text"].splitlines()[0]
    assert int(page.headers["Sforce-NumberOfRecords"]) == len(page.text.splitlines()) - 1


def test_bulk2_results_parse_as_the_connector_reads_them() -> None:
    example = fixture("bulk2_query_results")
    rows = [
        {k: typed(v, "id" if k == "Id" else "string") for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(example["response"]["text"]))
    ]
    assert len(rows) == int(example["response"]["headers"]["Sforce-NumberOfRecords"])
    assert rows[0] == {"Id": "005R0000000UyrWIAS", "Name": "Jane Dunn"}


def test_composite_runs_the_example_and_carries_the_connectors_describes(sf: Salesforce) -> None:
    example = fixture("composite_account_contact")
    answer = call(sf, example)
    assert answer.status_code == example["response"]["status"]
    ours = answer.json()
    theirs = example["response"]["body"]["compositeResponse"]
    assert [r["referenceId"] for r in ours["compositeResponse"]] == ["refAccount", "refContact"]
    for mine, doc in zip(ours["compositeResponse"], theirs, strict=True):
        assert mine["body"]["errors"] == doc["body"]["errors"] == []
        same_shape(mine, {**doc, "body": {k: v for k, v in doc["body"].items() if k != "errors"}})
        assert mine["httpHeaders"]["Location"].endswith(mine["body"]["id"])
    # The connector's describes ride the same resource, as sObject resources may.
    found = describe_all(lambda action: action(sf), "59.0", ["Account", "NoSuchObject__c"])
    assert set(found) == {"account"} and found["account"]["name"] == "Account"
