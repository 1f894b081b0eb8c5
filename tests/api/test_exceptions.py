"""The exceptions inbox over HTTP: filters, lifecycle, replay with a fix, bulk actions."""

from __future__ import annotations

from api_env import FIXED_LINE, ApiEnv
from fastapi.testclient import TestClient


def test_filter_and_get(env: ApiEnv, client: TestClient) -> None:
    h = env.auth("viewer")
    active = client.get("/api/v1/exceptions", headers=h).json()
    assert {e["category"] for e in active} == set(env.exception_ids)
    only = client.get(
        "/api/v1/exceptions", params={"category": "invalid_tax_code"}, headers=h
    ).json()
    assert [e["id"] for e in only] == [env.exception_ids["invalid_tax_code"]]
    by_system = client.get("/api/v1/exceptions", params={"system": "salesforce"}, headers=h).json()
    assert [e["category"] for e in by_system] == ["duplicate_customer"]
    assert client.get("/api/v1/exceptions", params={"state": "resolved"}, headers=h).json() == []
    assert client.get("/api/v1/exceptions", params={"state": "bogus"}, headers=h).status_code == 422
    assert client.get("/api/v1/exceptions/nope", headers=h).status_code == 404


def test_lifecycle_and_conflicts(env: ApiEnv, client: TestClient) -> None:
    h, exc_id = env.auth("operator"), env.exception_ids["duplicate_customer"]
    base = f"/api/v1/exceptions/{exc_id}"
    assert (
        client.post(f"{base}/assign", json={"owner": "deal-desk"}, headers=h).json()["state"]
        == "assigned"
    )
    assert (
        client.post(f"{base}/resolve", json={"note": "merged"}, headers=h).json()["state"]
        == "resolved"
    )
    r = client.post(f"{base}/assign", json={"owner": "x"}, headers=h)
    assert r.status_code == 409
    assert client.post(f"{base}/reopen", headers=h).json()["state"] == "open"
    done = client.post(f"{base}/ignore", json={"note": "not a duplicate"}, headers=h).json()
    assert done["state"] == "ignored" and done["resolution"] == "not a duplicate"
    assert client.post(f"{base}/resolve", json={"note": ""}, headers=h).status_code == 422
    assert (
        client.post("/api/v1/exceptions/nope/resolve", json={"note": "x"}, headers=h).status_code
        == 404
    )


def test_replay_with_a_corrected_payload_writes_the_record(env: ApiEnv, client: TestClient) -> None:
    h, exc_id = env.auth("operator"), env.exception_ids["invalid_record"]
    failed = client.post(f"/api/v1/exceptions/{exc_id}/replay", json={}, headers=h).json()
    assert failed["state"] == "open" and failed["attempts"] == 1
    fixed = client.post(
        f"/api/v1/exceptions/{exc_id}/replay", json={"payload": FIXED_LINE}, headers=h
    ).json()
    assert fixed["state"] == "resolved" and fixed["attempts"] == 2
    record = client.get("/api/v1/records/Account/acc-fix", headers=h).json()
    assert record["payload"]["name"] == "Fixed Co"
    again = client.post(f"/api/v1/exceptions/{exc_id}/replay", json={}, headers=h)
    assert again.status_code == 409


def test_bulk_actions_report_each_item(env: ApiEnv, client: TestClient) -> None:
    h = env.auth("operator")
    ids = [env.exception_ids["duplicate_customer"], env.exception_ids["invalid_tax_code"], "nope"]
    r = client.post(
        "/api/v1/exceptions/bulk/assign", json={"ids": ids, "owner": "ops"}, headers=h
    ).json()
    assert (r["ok"], r["failed"]) == (2, 1)
    assert [i["ok"] for i in r["items"]] == [True, True, False]
    r = client.post(
        "/api/v1/exceptions/bulk/resolve", json={"ids": ids[:2], "note": "done"}, headers=h
    ).json()
    assert r["ok"] == 2 and {i["state"] for i in r["items"]} == {"resolved"}
    r = client.post("/api/v1/exceptions/bulk/replay", json={"ids": ids[:2]}, headers=h).json()
    assert r["failed"] == 2  # resolved exceptions must be reopened before a replay
    assert (
        client.post(
            "/api/v1/exceptions/bulk/assign", json={"ids": [], "owner": "x"}, headers=h
        ).status_code
        == 422
    )
    remaining = client.get("/api/v1/exceptions", headers=h).json()
    assert [e["category"] for e in remaining] == ["invalid_record"]
