"""Kantata custom field values on the emulator (plain httpx): seeded on a story, shown as
``custom_field_value_ids``, side-loaded with ``include=custom_field_values`` and listed by
``subject_type``; seeding the row again updates the value in place."""

from __future__ import annotations

import httpx
import pytest

from pssync.sandbox.kantata import KantataEmulator

pytestmark = pytest.mark.integration
WORKSPACE = {"id": "1", "title": "A", "updated_at": "2026-01-01T00:00:00+00:00"}


def _story(code: str, updated: str) -> dict[str, object]:
    return {
        "id": "7",
        "title": "Build",
        "workspace_id": "1",
        "updated_at": updated,
        "custom_field_values": [{"name": "WBS Code", "value": code}],
    }


def test_a_story_shows_its_custom_field_values_and_side_loads_them() -> None:
    with KantataEmulator() as emulator:
        emulator.seed(
            {"workspaces": [WORKSPACE], "stories": [_story("P-1.1", WORKSPACE["updated_at"])]}
        )
        headers = {"Authorization": f"Bearer {emulator.token}"}
        with httpx.Client(base_url=emulator.credentials()["api_base"], headers=headers) as api:
            body = api.get("/stories.json", params={"include": "custom_field_values"}).json()
            (value_id,) = body["stories"]["7"]["custom_field_value_ids"]
            value = body["custom_field_values"][value_id]
            assert (value["custom_field_name"], value["value"]) == ("WBS Code", "P-1.1")
            assert (value["subject_type"], value["subject_id"]) == ("Story", "7")
            emulator.seed({"stories": [_story("P-1.2", "2026-01-02T00:00:00+00:00")]})
            listed = api.get("/custom_field_values.json", params={"subject_type": "Story"}).json()
            assert [v["value"] for v in listed["custom_field_values"].values()] == ["P-1.2"]
            assert (
                listed["custom_field_values"][value_id]["custom_field_id"]
                == (value["custom_field_id"])
            )
            roles = api.get("/roles.json", params={"include": "custom_field_values"})
            assert roles.status_code == 400  # not a custom-field subject
