"""The Kantata OX API v1 emulator through plain httpx: envelope, paging, filters, writes, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pssync.sandbox.kantata import KantataEmulator

pytestmark = pytest.mark.integration
OLD, NEW = "2026-01-10T09:00:00+00:00", "2026-06-10T09:00:00+00:00"


def firm_view() -> dict[str, list[dict[str, Any]]]:
    return {
        "users": [{"id": "1", "full_name": "Ada Architect"}, {"id": "2", "full_name": "Bo Dev"}],
        "roles": [{"id": "5", "name": "Architect"}],
        "workspaces": [
            {"id": str(100 + n), "title": f"Project {n}", "updated_at": OLD if n < 40 else NEW}
            for n in range(45)
        ],
        "workspace_resources": [
            {"id": "60", "workspace_id": "100", "user_id": "1", "role_id": "5"},
            {"id": "61", "workspace_id": "100", "user_id": "2"},
            {"id": "62", "workspace_id": "101", "user_id": "1"},
        ],
        "workspace_allocations": [
            {
                "id": "900",
                "resource_id": "60",
                "workspace_id": "100",
                "user_id": "1",
                "start_date": "2026-08-01",
                "end_date": "2026-08-31",
                "minutes": 9600,
                "hard": False,
            },
            {
                "id": "901",
                "resource_id": "61",
                "workspace_id": "100",
                "user_id": "2",
                "start_date": "2026-07-01",
                "end_date": "2026-07-31",
                "minutes": 4800,
                "hard": True,
            },
        ],
        "invoices": [{"id": "70", "workspace_ids": ["100", "101"], "invoice_date": "2026-05-31"}],
    }


@pytest.fixture(scope="module")
def kantata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KantataEmulator]:
    emulator = KantataEmulator(state_dir=tmp_path_factory.mktemp("kantata"))
    emulator.seed(firm_view())
    with emulator:
        yield emulator


@pytest.fixture(scope="module")
def api(kantata: KantataEmulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {kantata.credentials()['token']}"}
    with httpx.Client(base_url=kantata.credentials()["api_base"], headers=headers) as client:
        yield client


def test_list_uses_kantatas_response_format(api: httpx.Client) -> None:
    body = api.get("/workspaces.json", params={"per_page": 10, "page": 2}).json()
    assert body["count"] == 45
    assert body["meta"] == {"count": 45, "page_count": 5, "page_number": 2, "page_size": 10}
    assert body["results"][0] == {"key": "workspaces", "id": "110"}
    assert [r["id"] for r in body["results"]] == [str(n) for n in range(110, 120)]
    assert body["workspaces"]["110"]["title"] == "Project 10"


def test_paging_visits_every_record_once_and_per_page_caps_at_200(api: httpx.Client) -> None:
    seen: list[str] = []
    page = 1
    while True:
        body = api.get("/workspaces.json", params={"per_page": 7, "page": page}).json()
        seen += [r["id"] for r in body["results"]]
        if page >= body["meta"]["page_count"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == 45
    capped = api.get("/workspaces.json", params={"per_page": 500}).json()
    assert capped["meta"]["page_size"] == 200


def test_updated_after_and_only_filters(api: httpx.Client) -> None:
    recent = api.get("/workspaces.json", params={"updated_after": "2026-03-01T00:00:00Z"}).json()
    assert {r["id"] for r in recent["results"]} == {str(n) for n in range(140, 145)}
    only = api.get("/workspaces.json", params={"only": "101,103,999"}).json()
    assert [r["id"] for r in only["results"]] == ["101", "103"]


def test_object_specific_filters(api: httpx.Client) -> None:
    soft = api.get("/workspace_allocations.json", params={"workspace_id": 100, "hard": "false"})
    assert [r["id"] for r in soft.json()["results"]] == ["900"]
    invoices = api.get("/invoices.json", params={"workspace_id": "101"}).json()
    assert [r["id"] for r in invoices["results"]] == ["70"]
    assert api.get("/invoices.json", params={"workspace_id": "102"}).json()["count"] == 0


def test_create_then_update_maintains_timestamps(api: httpx.Client) -> None:
    created = api.post("/workspaces.json", json={"workspace": {"title": "Transformation"}})
    assert created.status_code == 200, created.text
    body = created.json()
    new_id = body["results"][0]["id"]
    workspace = body["workspaces"][new_id]
    assert workspace["created_at"] == workspace["updated_at"]

    time.sleep(1.01)  # stamps are shown to the second
    updated = api.put(f"/workspaces/{new_id}.json", json={"workspace": {"due_date": "2026-09-30"}})
    assert updated.status_code == 200, updated.text
    after = api.get(f"/workspaces/{new_id}.json").json()["workspaces"][new_id]
    assert after["title"] == "Transformation" and after["due_date"] == "2026-09-30"
    assert after["updated_at"] > after["created_at"] == workspace["created_at"]

    since = api.get("/workspaces.json", params={"updated_after": workspace["updated_at"]}).json()
    assert new_id in {r["id"] for r in since["results"]}


def test_bulk_create_allocations_inherits_workspace_and_delete(api: httpx.Client) -> None:
    allocations = [
        {
            "resource_id": 62,
            "start_date": "2026-09-01",
            "end_date": "2026-09-30",
            "minutes": 4800,
            "hard": False,
        },
        {"resource_id": 62, "start_date": "2026-10-01", "end_date": "2026-10-31", "minutes": 2400},
    ]
    created = api.post("/workspace_allocations.json", json={"workspace_allocations": allocations})
    assert created.status_code == 200, created.text
    ids = [r["id"] for r in created.json()["results"]]
    rows = [created.json()["workspace_allocations"][i] for i in ids]
    assert [r["hard"] for r in rows] == [False, True]  # hard unless said otherwise
    assert {(r["workspace_id"], r["user_id"], r["resource_id"]) for r in rows} == {
        ("101", "1", "62")
    }
    assert api.delete(f"/workspace_allocations/{ids[0]}.json").status_code == 204
    assert api.get(f"/workspace_allocations/{ids[0]}.json").status_code == 404


def test_validation_errors_name_each_field(api: httpx.Client) -> None:
    response = api.post(
        "/time_entries.json",
        json={"time_entry": {"workspace_id": "99999", "time_in_minutes": "ninety"}},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert all(e["type"] == "validation" for e in errors)
    assert {e["field"] for e in errors} == {"date_performed", "time_in_minutes", "workspace_id"}


def test_missing_or_wrong_token_is_401(kantata: KantataEmulator) -> None:
    url = f"{kantata.credentials()['api_base']}/workspaces.json"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": kantata.token}):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["type"] == "oauth"


def test_users_are_read_only(api: httpx.Client) -> None:
    response = api.post("/users.json", json={"user": {"full_name": "Mallory"}})
    assert response.status_code == 403
    assert "cannot be created" in response.json()["errors"][0]["message"]


def test_injected_rate_limit_uses_kantata_error_shape(
    kantata: KantataEmulator, api: httpx.Client
) -> None:
    admin = f"{kantata.base_url}/__admin/faults"
    httpx.put(admin, json={"error_rate": 1.0, "error_statuses": [429]}).raise_for_status()
    try:
        response = api.get("/workspaces.json")
    finally:
        httpx.put(admin, json={"error_rate": 0.0}).raise_for_status()
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["errors"][0]["type"] == "rate_limit"
