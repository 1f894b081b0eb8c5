"""Records as of valid/known times, history, provenance, xrefs, traces; injection stays data."""

from __future__ import annotations

from api_env import HTML, SOQL, SQL, ApiEnv
from fastapi.testclient import TestClient


def test_counts_list_and_get(env: ApiEnv, client: TestClient) -> None:
    h = env.auth("viewer")
    counts = {
        c["entity_type"]: c["records"] for c in client.get("/api/v1/records", headers=h).json()
    }
    assert counts["Opportunity"] == 5 and counts["TimeEntry"] == 55
    page = client.get(
        "/api/v1/records/Opportunity", params={"limit": 3, "offset": 1}, headers=h
    ).json()
    assert [i["id"] for i in page["items"]] == ["opp-2", "opp-3", "opp-4"]
    one = client.get("/api/v1/records/Project/prj-2", headers=h).json()
    assert one["payload"]["opportunity_id"] == "opp-2" and one["system"] == "kantata"
    assert client.get("/api/v1/records/Nope", headers=h).status_code == 404
    assert client.get("/api/v1/records/Project/missing", headers=h).status_code == 404


def test_as_of_valid_time(env: ApiEnv, client: TestClient) -> None:
    h = env.auth("viewer")
    before = {"valid_at": "2026-02-01T00:00:00Z"}
    assert client.get("/api/v1/records/Project/prj-2", params=before, headers=h).status_code == 404
    after = {"valid_at": "2026-04-01T00:00:00Z"}
    assert client.get("/api/v1/records/Project/prj-2", params=after, headers=h).status_code == 200
    naive = {"valid_at": "2026-04-01T00:00:00"}
    assert client.get("/api/v1/records/Project/prj-2", params=naive, headers=h).status_code == 422
    known_before = {"known_at": "2000-01-01T00:00:00Z"}
    assert (
        client.get("/api/v1/records/Project/prj-2", params=known_before, headers=h).status_code
        == 404
    )


def test_history_provenance_xrefs(env: ApiEnv, client: TestClient) -> None:
    h = env.auth("viewer")
    history = client.get("/api/v1/records/Project/prj-2/history", headers=h).json()
    assert history and history[0]["id"] == "prj-2"
    prov = {
        p["name"]: p
        for p in client.get("/api/v1/records/Project/prj-2/provenance", headers=h).json()
    }
    assert prov["project_code"]["value"] == "PRJ-2026-0002"
    assert prov["project_code"]["provenance"]["system"] == "kantata"
    assert prov["project_code"]["provenance"]["valid_from"].startswith("2026-03-02")
    xrefs = client.get("/api/v1/records/Project/prj-2/xrefs", headers=h).json()
    assert {x["system_object"]: x["external_id"] for x in xrefs} == {
        "kantata:Workspace": "410002",
        "netsuite:job": "8812",
    }


def test_trace_from_opportunity_to_payment(env: ApiEnv, client: TestClient) -> None:
    trace = client.get("/api/v1/trace/Opportunity/opp-2", headers=env.auth("viewer")).json()
    keys = [(n["entity_type"], n["id"]) for n in trace["nodes"]]
    assert keys[0] == ("Opportunity", "opp-2")
    assert {
        ("Project", "prj-2"),
        ("ContractLine", "cl-2"),
        ("Invoice", "inv-2-1"),
        ("Payment", "pay-2-1"),
    } <= set(keys)
    invoice = next(n for n in trace["nodes"] if n["id"] == "inv-2-1")
    fields = {f["name"]: f for f in invoice["fields"]}
    assert fields["status"]["provenance"]["system"] == "netsuite"
    assert {"rel": "contract_line_id", "entity_type": "ContractLine", "id": "cl-2"} in invoice[
        "links"
    ]
    assert trace["nodes"][0]["system"] == "salesforce"


def test_trace_from_a_downstream_record_climbs_to_the_deal(env: ApiEnv, client: TestClient) -> None:
    trace = client.get("/api/v1/trace/Payment/pay-2-1", headers=env.auth("viewer")).json()
    assert trace["root"] == {"entity_type": "Opportunity", "id": "opp-2"}
    assert trace["focus"] == {"entity_type": "Payment", "id": "pay-2-1"}
    assert client.get("/api/v1/trace/Region/reg-na", headers=env.auth("viewer")).status_code == 404
    assert (
        client.get("/api/v1/trace/Opportunity/nope", headers=env.auth("viewer")).status_code == 404
    )


def test_injection_strings_come_back_unchanged_as_data(env: ApiEnv, client: TestClient) -> None:
    h = env.auth("viewer")
    account = client.get("/api/v1/records/Account/acc-inj", headers=h).json()["payload"]
    assert (account["name"], account["legal_name"], account["domain"]) == (HTML, SQL, SOQL)
    opp = client.get("/api/v1/records/Opportunity/opp-inj", headers=h).json()["payload"]
    assert opp["name"] == f"{HTML} {SOQL}" and opp["stage"] == SQL
    # The SQL payload did not drop anything, and IDs carrying quotes are just IDs.
    assert client.get("/api/v1/records/Account/' OR 1=1 --", headers=h).status_code == 404
    assert client.get("/api/v1/trace/Opportunity/opp-inj", headers=h).status_code == 200
    counts = {
        c["entity_type"]: c["records"] for c in client.get("/api/v1/records", headers=h).json()
    }
    assert counts["Account"] == 5
