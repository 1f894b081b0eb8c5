"""Kantata external references, list order and custom-field subjects on the emulator (plain httpx).

What a connector relies on to make creates idempotent: a reference nested in a create is stored
with the object in one step, lists filter by ``external_reference_*`` (as Kantata integrations
query it), ``GET /external_references`` needs ``subject_type``, and a deleted object takes its
references with it. Custom field values stay on Kantata's custom-field subjects.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pssync.sandbox.kantata import KantataEmulator

pytestmark = pytest.mark.integration
LINK = {"service_name": "pssync", "service_model": "TimeEntry", "service_model_ref": "te-1"}


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with KantataEmulator() as emulator:
        emulator.seed(
            {
                "workspaces": [
                    {"id": "1", "title": "A", "updated_at": "2026-01-03T00:00:00+00:00"},
                    {"id": "2", "title": "B", "updated_at": "2026-01-01T00:00:00+00:00"},
                    {"id": "3", "title": "C", "updated_at": "2026-01-02T00:00:00+00:00"},
                ]
            }
        )
        headers = {"Authorization": f"Bearer {emulator.token}"}
        with httpx.Client(base_url=emulator.credentials()["api_base"], headers=headers) as c:
            yield c


def test_a_nested_reference_is_created_with_its_object_and_found_by_filter(
    api: httpx.Client,
) -> None:
    entry = {"workspace_id": "1", "date_performed": "2026-03-02", "time_in_minutes": 30}
    created = api.post(
        "/time_entries.json",
        params={"include": "external_references"},
        json={"time_entry": {**entry, "external_reference": LINK}},
    ).json()
    (entry_id,) = created["time_entries"]
    (ref_id,) = created["time_entries"][entry_id]["external_reference_ids"]
    assert created["external_references"][ref_id]["service_model_ref"] == "te-1"
    found = api.get(
        "/time_entries.json",
        params={
            "external_reference_service_name": "pssync",
            "external_reference_service_model_ref": "te-1",
        },
    ).json()
    assert [r["id"] for r in found["results"]] == [entry_id]
    assert api.get("/external_references.json").status_code == 400  # subject_type required
    assert api.delete(f"/time_entries/{entry_id}.json").status_code == 204
    left = api.get("/external_references.json", params={"subject_type": "TimeEntry"}).json()
    assert left["count"] == 0  # the reference went with its object


def test_a_refused_reference_creates_nothing(api: httpx.Client) -> None:
    before = api.get("/time_entries.json").json()["count"]
    entry = {"workspace_id": "1", "date_performed": "2026-03-02", "time_in_minutes": 30}
    bad = api.post(
        "/time_entries.json",
        json={"time_entry": {**entry, "external_reference": {"service_name": "x"}}},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"service_model", "service_model_ref"}
    assert api.get("/time_entries.json").json()["count"] == before


def test_order_by_updated_at(api: httpx.Client) -> None:
    asc = api.get("/workspaces.json", params={"order": "updated_at:asc"}).json()
    assert [r["id"] for r in asc["results"]][:3] == ["2", "3", "1"]
    desc = api.get("/workspaces.json", params={"order": "updated_at:desc"}).json()
    assert [r["id"] for r in desc["results"]][-3:] == ["1", "3", "2"]
    assert api.get("/workspaces.json", params={"order": "title:sideways"}).status_code == 400


@pytest.mark.parametrize("subject", ["TimeEntry", "Invoice", "WorkspaceAllocation", "Role"])
def test_custom_field_values_only_on_kantatas_subjects(api: httpx.Client, subject: str) -> None:
    value = {"custom_field_id": "3", "subject_type": subject, "subject_id": "1", "value": "x"}
    refused = api.post("/custom_field_values.json", json={"custom_field_value": value})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["subject_type"]
    listed = api.get("/custom_field_values.json", params={"subject_type": subject})
    assert listed.status_code == 400
    ok = {**value, "subject_type": "Workspace"}
    assert api.post("/custom_field_values.json", json={"custom_field_value": ok}).status_code == 200
