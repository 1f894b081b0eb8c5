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


@pytest.fixture(scope="module")
def group(servicenow: ServiceNowEmulator, api: httpx.Client) -> dict[str, Any]:
    servicenow.seed({"sys_user_group": [{"name": "Network"}]})
    params = {"sysparm_query": "name=Network"}
    (found,) = api.get("/api/now/table/sys_user_group", params=params).json()["result"]
    return dict(found)


def test_reference_fields_come_back_as_link_and_value(
    api: httpx.Client, group: dict[str, Any]
) -> None:
    created = api.post(
        INCIDENTS, json={"short_description": "x", "assignment_group": group["sys_id"]}
    )
    reference = created.json()["result"]["assignment_group"]
    assert reference == {
        "link": f"{api.base_url}/api/now/table/sys_user_group/{group['sys_id']}",
        "value": group["sys_id"],
    }
    assert created.json()["result"]["assigned_to"] == ""  # an empty reference is ""
    sys_id = created.json()["result"]["sys_id"]
    plain = api.get(f"{INCIDENTS}/{sys_id}", params={"sysparm_exclude_reference_link": "true"})
    assert plain.json()["result"]["assignment_group"] == group["sys_id"]


def test_display_values_true_and_all(api: httpx.Client, group: dict[str, Any]) -> None:
    body = {"short_description": "y", "assignment_group": group["sys_id"], "state": "2"}
    sys_id = api.post(INCIDENTS, json=body).json()["result"]["sys_id"]
    shown = api.get(f"{INCIDENTS}/{sys_id}", params={"sysparm_display_value": "true"})
    result = shown.json()["result"]
    assert result["assignment_group"]["display_value"] == "Network"
    assert result["state"] == "In Progress" and result["short_description"] == "y"
    both = api.get(f"{INCIDENTS}/{sys_id}", params={"sysparm_display_value": "all"}).json()
    assert both["result"]["state"] == {"display_value": "In Progress", "value": "2"}
    assert both["result"]["assignment_group"]["value"] == group["sys_id"]
    assert both["result"]["assignment_group"]["display_value"] == "Network"
    names = api.get(
        INCIDENTS,
        params={
            "sysparm_query": f"sys_id={sys_id}",
            "sysparm_display_value": "true",
            "sysparm_exclude_reference_link": "true",
        },
    ).json()["result"]
    assert names[0]["assignment_group"] == "Network"


def test_input_display_value_resolves_a_group_name(
    api: httpx.Client, group: dict[str, Any]
) -> None:
    by_name = api.post(
        INCIDENTS,
        params={"sysparm_input_display_value": "true"},
        json={"short_description": "z", "assignment_group": "Network"},
    )
    assert by_name.json()["result"]["assignment_group"]["value"] == group["sys_id"]
    raw = api.post(INCIDENTS, json={"short_description": "z", "assignment_group": "Network"})
    stored = raw.json()["result"]["assignment_group"]
    assert stored["value"] == "Network"  # stored as given: a broken reference
    shown = api.get(
        f"{INCIDENTS}/{raw.json()['result']['sys_id']}", params={"sysparm_display_value": "all"}
    )
    assert shown.json()["result"]["assignment_group"]["display_value"] == ""
