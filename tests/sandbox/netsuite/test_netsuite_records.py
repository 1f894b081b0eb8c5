"""The NetSuite record API through an authlib HMAC-SHA256 client: CRUD, paging, upsert, errors."""

from __future__ import annotations

import time

import pytest
from authlib.integrations.httpx_client import OAuth1Client

from pssync.sandbox.netsuite import NetSuiteEmulator

pytestmark = pytest.mark.integration
RECORDS = "/services/rest/record/v1"


def test_create_answers_204_with_location_and_get_returns_record(client: OAuth1Client) -> None:
    body = {"companyName": "Acme Consulting", "subsidiary": {"id": "1"}, "email": "a@acme.test"}
    created = client.post(f"{RECORDS}/customer", json=body)
    assert created.status_code == 204, created.text
    location = created.headers["Location"]
    assert location.startswith(f"{client.base_url}{RECORDS}/customer/")

    fetched = client.get(location)
    assert fetched.status_code == 200
    record = fetched.json()
    assert record["id"] == location.rsplit("/", 1)[1]
    assert record["companyName"] == "Acme Consulting"
    assert record["links"][0] == {"rel": "self", "href": location}
    assert record["lastModifiedDate"].endswith("Z") and len(record["lastModifiedDate"]) == 20


def test_list_pages_with_limit_offset_and_links(client: OAuth1Client) -> None:
    first = client.get(f"{RECORDS}/customer", params={"limit": 40}).json()
    total = first["totalResults"]
    assert total >= 150
    assert (first["count"], first["offset"], first["hasMore"]) == (40, 0, True)
    assert set(first["items"][0]) == {"links", "id"}
    rels = {link["rel"] for link in first["links"]}
    assert {"self", "first", "next", "last"} <= rels and "prev" not in rels

    seen = [item["id"] for item in first["items"]]
    page = first
    while page["hasMore"]:
        next_href = next(link["href"] for link in page["links"] if link["rel"] == "next")
        page = client.get(next_href).json()
        seen += [item["id"] for item in page["items"]]
    assert len(seen) == total == len(set(seen))
    assert page["count"] == total - page["offset"] and page["hasMore"] is False


def test_limit_above_1000_is_refused_naming_the_parameter(client: OAuth1Client) -> None:
    response = client.get(f"{RECORDS}/customer", params={"limit": 1001})
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorQueryParam"] == "limit"


def test_eid_upsert_twice_leaves_one_record(
    client: OAuth1Client, netsuite: NetSuiteEmulator
) -> None:
    url = f"{RECORDS}/customer/eid:CRM-777"
    body = {"companyName": "Upsert Ltd", "subsidiary": {"id": "1"}}
    first = client.put(url, json=body)
    second = client.put(url, json={**body, "companyName": "Upsert Limited"})
    assert first.status_code == second.status_code == 204
    assert first.headers["Location"] == second.headers["Location"]

    matches = [r for r in netsuite.table.values("customer") if r.get("externalId") == "CRM-777"]
    assert len(matches) == 1 and matches[0]["companyName"] == "Upsert Limited"
    by_eid = client.get(url).json()
    assert by_eid["id"] == matches[0]["id"] and by_eid["externalId"] == "CRM-777"


def test_patch_updates_fields_and_lastmodifieddate(client: OAuth1Client) -> None:
    before = client.get(f"{RECORDS}/customer/1001").json()
    time.sleep(1.01)  # NetSuite shows lastModifiedDate to the second
    patched = client.patch(f"{RECORDS}/customer/1001", json={"phone": "555-0100"})
    assert patched.status_code == 204
    after = client.get(f"{RECORDS}/customer/1001").json()
    assert after["phone"] == "555-0100" and after["companyName"] == before["companyName"]
    assert after["lastModifiedDate"] > before["lastModifiedDate"]


def test_delete_then_get_is_404_in_netsuite_format(client: OAuth1Client) -> None:
    assert client.delete(f"{RECORDS}/customer/1002").status_code == 204
    missing = client.get(f"{RECORDS}/customer/1002")
    assert missing.status_code == 404
    body = missing.json()
    assert body["status"] == 404 and body["title"] == "Not Found"
    assert body["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"
    assert missing.headers["content-type"].startswith("application/vnd.oracle.resource+json")


@pytest.mark.parametrize(
    ("record_type", "body", "path"),
    [
        ("customer", {"subsidiary": {"id": "1"}}, "companyName"),
        ("customer", {"companyName": "X", "subsidiary": "1"}, "subsidiary"),
        ("job", {"companyName": "P", "parent": {"id": "999999"}}, "parent"),
        (
            "timebill",
            {"employee": {"id": "77"}, "hours": "lots", "tranDate": "2026-06-01"},
            "hours",
        ),
        (
            "journalentry",
            {
                "subsidiary": {"id": "1"},
                "line": {
                    "items": [
                        {"account": {"id": "500"}, "debit": 10},
                        {"account": {"id": "600"}, "credit": 9},
                    ]
                },
            },
            "line",
        ),
    ],
)
def test_validation_error_names_the_field(
    client: OAuth1Client, record_type: str, body: dict[str, object], path: str
) -> None:
    response = client.post(f"{RECORDS}/{record_type}", json=body)
    assert response.status_code == 400, response.text
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorPath"] == path
    assert detail["o:errorCode"] == "USER_ERROR"


def test_reference_by_external_id_is_resolved(client: OAuth1Client) -> None:
    body = {"companyName": "Project by eid", "parent": {"externalId": "SF-ACC-0003"}}
    created = client.post(f"{RECORDS}/job", json=body)
    assert created.status_code == 204, created.text
    job = client.get(created.headers["Location"]).json()
    assert job["parent"] == {"id": "1003"}


def test_unknown_record_type_is_404(client: OAuth1Client) -> None:
    response = client.get(f"{RECORDS}/spaceship")
    assert response.status_code == 404
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_RCRD_TYPE"
