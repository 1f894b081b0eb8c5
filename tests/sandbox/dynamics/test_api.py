"""The Dataverse emulator over real HTTP: OAuth, OData query options, keyset paging, limited
upserts, scheduling entities and the error envelope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pssync.sandbox.dynamics import DynamicsEmulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emu() -> Iterator[DynamicsEmulator]:
    with DynamicsEmulator() as emulator:
        emulator.seed(
            {
                "accounts": [
                    {
                        "name": name,
                        "accountnumber": number,
                        "revenue": revenue,
                        "modifiedon": stamp,
                    }
                    for name, number, revenue, stamp in (
                        ("Alpha", "A-1", 100, "2026-01-01T00:00:00Z"),
                        ("beta", "B-1", 250.5, "2026-02-01T00:00:00Z"),
                        ("Gamma", "G-1", None, "2026-03-01T00:00:00Z"),
                        ("O'Neil & Co", "O'N-1", 75, "2026-03-01T00:00:00Z"),
                    )
                ],
                "msdyn_projecttasks": [{"msdyn_subject": "Seeded task"}],
            }
        )
        yield emulator


@pytest.fixture(scope="module")
def api(emu: DynamicsEmulator) -> Iterator[httpx.Client]:
    token = httpx.post(
        emu.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "scope": f"{emu.base_url}/.default",
        },
    ).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3599
    headers = {"Authorization": f"Bearer {token['access_token']}", "OData-Version": "4.0"}
    with httpx.Client(base_url=f"{emu.base_url}/api/data/v9.2", headers=headers) as client:
        yield client


def names(client: httpx.Client, **params: Any) -> list[str]:
    answer = client.get("/accounts", params={"$select": "name", **params})
    assert answer.status_code == 200, answer.text
    return [row["name"] for row in answer.json()["value"]]


def test_filters_compare_like_dataverse(api: httpx.Client) -> None:
    assert names(api, **{"$filter": "name eq 'ALPHA'"}) == ["Alpha"]  # case-insensitive
    later = "modifiedon gt 2026-01-15T00:00:00Z and revenue ne null"
    assert sorted(names(api, **{"$filter": later})) == ["O'Neil & Co", "beta"]
    both = "(accountnumber eq 'A-1' or accountnumber eq 'O''N-1') and not (revenue gt 90)"
    assert names(api, **{"$filter": both}) == ["O'Neil & Co"]


def test_orderby_and_top(api: httpx.Client) -> None:
    assert names(api, **{"$orderby": "name desc", "$top": "2"}) == ["O'Neil & Co", "Gamma"]
    assert names(api, **{"$orderby": "revenue asc,name asc", "$filter": "revenue ne null"}) == [
        "O'Neil & Co",
        "Alpha",
        "beta",
    ]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"$select": "Name"}, 400, "0x0"),
        ({"$skip": "2"}, 400, "0x0"),
        ({"$filter": "name eq"}, 400, "0x0"),
    ],
)
def test_query_errors_use_the_envelope(
    api: httpx.Client, params: dict[str, str], status: int, code: str
) -> None:
    answer = api.get("/accounts", params=params)
    assert answer.status_code == status and answer.json()["error"]["code"] == code


def test_paging_is_keyset_so_a_row_edited_mid_read_is_not_skipped(
    emu: DynamicsEmulator, api: httpx.Client
) -> None:
    emu.seed({"contacts": [{"fullname": f"Person {i:02}"} for i in range(7)]})
    prefer = {"Prefer": "odata.maxpagesize=3"}
    first = api.get("/contacts", params={"$orderby": "fullname"}, headers=prefer).json()
    seen = [r["fullname"] for r in first["value"]]
    api.patch(f"/contacts({first['value'][0]['contactid']})", json={"fullname": "Person 99"})
    link = first["@odata.nextLink"]
    while link:
        page = api.get(link, headers=prefer).json()
        seen += [r["fullname"] for r in page["value"]]
        link = page.get("@odata.nextLink")
    assert seen[:3] == ["Person 00", "Person 01", "Person 02"]
    assert seen[3:] == ["Person 03", "Person 04", "Person 05", "Person 06", "Person 99"]


def test_upsert_by_alternate_key_and_its_conditions(api: httpx.Client) -> None:
    path = "/accounts(accountnumber='NEW-''1')"
    created = api.patch(path, json={"name": "New"}, headers={"If-None-Match": "*"})
    assert created.status_code == 204 and "accounts(" in created.headers["OData-EntityId"]
    again = api.patch(path, json={"name": "New"}, headers={"If-None-Match": "*"})
    assert again.status_code == 412 and again.json()["error"]["message"].startswith("A record")
    updated = api.patch(
        "/accounts(accountnumber='new-''1')",  # keys compare without case
        json={"name": "Renamed"},
        headers={"If-Match": "*", "Prefer": "return=representation"},
    )
    assert updated.status_code == 200 and updated.json()["name"] == "Renamed"
    assert updated.json()["accountnumber"] == "NEW-'1"
    gone = api.patch(
        "/accounts(accountnumber='NONE')", json={"name": "x"}, headers={"If-Match": "*"}
    )
    assert gone.status_code == 404
    plain = api.patch("/accounts(accountnumber='PLAIN')", json={"name": "Upserted"})
    assert plain.status_code == 204 and names(api, **{"$filter": "accountnumber eq 'PLAIN'"}) == [
        "Upserted"
    ]


def test_writes_are_checked_like_dataverse(api: httpx.Client) -> None:
    too_long = api.post("/accounts", json={"name": "x" * 161})
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "0x80044331"
    as_text = api.post("/accounts", json={"name": "x", "revenue": "12.5"})
    assert as_text.status_code == 400 and "Edm.Decimal" in as_text.json()["error"]["message"]
    exact = api.post(
        "/accounts",
        json={"name": "exact", "revenue": "12.50"},
        headers={"Content-Type": "application/json; IEEE754Compatible=true"},
    )
    assert exact.status_code == 204
    unknown = api.post("/accounts", json={"name": "x", "_parentaccountid_value": "y"})
    assert unknown.status_code == 400 and "does not exist" in unknown.json()["error"]["message"]
    missing = api.post(
        "/opportunities",
        json={
            "name": "o",
            "parentaccountid@odata.bind": "/accounts(00000000-0000-0000-0000-000000000009)",
        },
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"


def test_project_tasks_are_written_through_the_schedule_apis_only(api: httpx.Client) -> None:
    assert api.get("/msdyn_projecttasks").json()["value"][0]["msdyn_subject"] == "Seeded task"
    refused = api.post("/msdyn_projecttasks", json={"msdyn_subject": "Direct"})
    assert refused.status_code == 400 and "msdyn_PssCreateV1" in refused.json()["error"]["message"]


def test_auth_and_service_protection(emu: DynamicsEmulator, api: httpx.Client) -> None:
    bad = httpx.post(emu.token_url, data={"grant_type": "client_credentials", "client_id": "x"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert httpx.get(f"{emu.base_url}/api/data/v9.2/accounts").status_code == 401
    admin = f"{emu.base_url}/__admin/faults"
    httpx.put(admin, json={"error_rate": 1.0, "error_statuses": [429], "retry_after": 5})
    try:
        limited = api.get("/accounts")
    finally:
        httpx.put(admin, json={"error_rate": 0.0, "retry_after": 1})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "5"
    assert limited.json()["error"]["code"] == "0x80072322"


def test_describe_lists_columns_and_keys(api: httpx.Client) -> None:
    attributes = api.get("/EntityDefinitions(LogicalName='account')/Attributes").json()["value"]
    by_name = {a["LogicalName"]: a for a in attributes}
    assert by_name["name"]["MaxLength"] == 160 and not by_name["modifiedon"]["IsValidForUpdate"]
    keys = api.get("/EntityDefinitions(LogicalName='account')/Keys").json()["value"]
    assert keys == [{"KeyAttributes": ["accountnumber"]}]
