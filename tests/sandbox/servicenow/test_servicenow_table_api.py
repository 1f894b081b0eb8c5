"""The ServiceNow Table API emulator through plain httpx with basic auth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pssync.sandbox.servicenow import ServiceNowEmulator

pytestmark = pytest.mark.integration
INCIDENTS = "/api/now/table/incident"


@pytest.fixture(scope="module")
def servicenow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceNowEmulator]:
    with ServiceNowEmulator(state_dir=tmp_path_factory.mktemp("servicenow")) as emulator:
        assert isinstance(emulator, ServiceNowEmulator)
        yield emulator


@pytest.fixture(scope="module")
def api(servicenow: ServiceNowEmulator) -> Iterator[httpx.Client]:
    creds = servicenow.credentials()
    auth = (creds["username"], creds["password"])
    with httpx.Client(base_url=servicenow.base_url, auth=auth) as client:
        yield client


@pytest.fixture(scope="module")
def incidents(api: httpx.Client) -> list[dict[str, Any]]:
    """Twelve incidents created through the API, in creation order."""
    created = []
    for n in range(12):
        body = {
            "short_description": f"Sync failure {n}",
            "priority": str(1 + n % 3),
            "category": "integration" if n % 2 else "inquiry",
        }
        response = api.post(INCIDENTS, json=body)
        assert response.status_code == 201, response.text
        created.append(response.json()["result"])
    return created


def test_create_assigns_sys_id_number_and_stamps(incidents: list[dict[str, Any]]) -> None:
    first = incidents[0]
    assert re.fullmatch(r"[0-9a-f]{32}", first["sys_id"])
    assert [i["number"] for i in incidents[:3]] == ["INC0010001", "INC0010002", "INC0010003"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", first["sys_created_on"])
    assert first["sys_updated_on"] == first["sys_created_on"] and first["sys_mod_count"] == "0"
    assert first["state"] == "1" and first["priority"] == "1"


def test_get_one_and_missing_record(api: httpx.Client, incidents: list[dict[str, Any]]) -> None:
    sys_id = incidents[4]["sys_id"]
    body = api.get(f"{INCIDENTS}/{sys_id}").json()
    assert body["result"]["short_description"] == "Sync failure 4"
    missing = api.get(f"{INCIDENTS}/{'0' * 32}")
    assert missing.status_code == 404
    assert missing.json()["status"] == "failure"
    assert missing.json()["error"]["message"] == "No Record found"


def test_query_filters_orders_and_pages(api: httpx.Client, incidents: list[dict[str, Any]]) -> None:
    params: dict[str, str | int] = {
        "sysparm_query": "category=integration^priority!=3^ORDERBYDESCnumber",
        "sysparm_fields": "number,priority",
        "sysparm_limit": 2,
        "sysparm_offset": 1,
    }
    response = api.get(INCIDENTS, params=params)
    expected = sorted(
        (i["number"] for i in incidents if i["category"] == "integration" and i["priority"] != "3"),
        reverse=True,
    )
    assert response.headers["X-Total-Count"] == str(len(expected))
    assert [r["number"] for r in response.json()["result"]] == expected[1:3]
    assert set(response.json()["result"][0]) == {"number", "priority"}
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("priority=1^ORpriority=2", 8),
        ("short_descriptionLIKEfailure 1", 3),  # 1, 10, 11
        ("priorityIN1,3", 8),
        ("numberSTARTSWITHINC001000", 9),
        ("priority>=2^category=inquiry", 4),
        ("priority=1^NQpriority=3", 8),
        ("priorityBETWEEN2@3^short_descriptionNOT LIKEfailure 1", 5),
        ("no_such_field=1", 0),
    ],
)
def test_encoded_query_operators(
    api: httpx.Client, incidents: list[dict[str, Any]], query: str, count: int
) -> None:
    response = api.get(INCIDENTS, params={"sysparm_query": f"{query}^sys_created_by!=nobody"})
    assert response.status_code == 200
    assert len(response.json()["result"]) == count


def test_patch_and_put_update_and_count_modifications(
    api: httpx.Client, incidents: list[dict[str, Any]]
) -> None:
    sys_id = incidents[5]["sys_id"]
    patched = api.patch(f"{INCIDENTS}/{sys_id}", json={"state": "2", "sys_id": "forged"})
    assert patched.status_code == 200
    assert patched.json()["result"]["state"] == "2" and patched.json()["result"]["sys_id"] == sys_id
    put = api.put(f"{INCIDENTS}/{sys_id}", json={"work_notes": "Retried delivery"})
    result = put.json()["result"]
    assert result["state"] == "2" and result["work_notes"] == "Retried delivery"
    assert result["sys_mod_count"] == "2" and result["number"] == incidents[5]["number"]


def test_delete(api: httpx.Client) -> None:
    created = api.post(INCIDENTS, json={"short_description": "temporary"}).json()["result"]
    assert api.delete(f"{INCIDENTS}/{created['sys_id']}").status_code == 204
    assert api.get(f"{INCIDENTS}/{created['sys_id']}").status_code == 404


@pytest.mark.parametrize("auth", [None, ("pssync.integration", "wrong-password")])
def test_unauthenticated_requests_are_refused(
    servicenow: ServiceNowEmulator, auth: tuple[str, str] | None
) -> None:
    response = httpx.get(f"{servicenow.base_url}{INCIDENTS}", auth=auth)
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "User Not Authenticated",
            "detail": "Required to provide Auth information",
        },
        "status": "failure",
    }


def test_unknown_table_is_400(api: httpx.Client) -> None:
    response = api.get("/api/now/table/spaceship")
    assert (
        response.status_code == 400
        and response.json()["error"]["message"] == "Invalid table spaceship"
    )


def test_injected_fault_uses_servicenow_error_shape(
    servicenow: ServiceNowEmulator, api: httpx.Client
) -> None:
    admin = f"{servicenow.base_url}/__admin/faults"
    httpx.put(admin, json={"error_rate": 1.0, "error_statuses": [429]}).raise_for_status()
    try:
        response = api.get(INCIDENTS)
    finally:
        httpx.put(admin, json={"error_rate": 0.0}).raise_for_status()
    assert response.status_code == 429
    assert response.json()["status"] == "failure" and "retry-after" in response.headers
