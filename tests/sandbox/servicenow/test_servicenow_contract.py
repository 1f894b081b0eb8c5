"""ServiceNow's own Table API examples (tests/fixtures/vendors/servicenow/, each naming its page):
the emulator answers the same requests in the same shape, and pssync's client reads them.

Shape, not values: the examples come from another instance, so sys_ids, numbers and dates
differ; what must match is every field's kind (plain string, ``{link, value}`` reference, or the
``YYYY-MM-DD HH:MM:SS`` date-time), the status code and the envelope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.governance.notify import _value
from pssync.sandbox.servicenow import ServiceNowEmulator

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[2] / "fixtures/vendors/servicenow"
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    assert data["source"].startswith("https://www.servicenow.com/docs/")
    return data


def kind(value: Any) -> str:
    if isinstance(value, dict):
        assert set(value) == {"link", "value"}, value
        assert "/api/now/table/" in value["link"] and value["link"].endswith(value["value"])
        return "reference"
    if isinstance(value, str) and STAMP.match(value):
        return "datetime"
    return type(value).__name__


def same_shape(ours: dict[str, Any], theirs: dict[str, Any], fields: set[str]) -> None:
    for name in fields:
        assert kind(ours[name]) == kind(theirs[name]), (name, ours[name], theirs[name])


@pytest.fixture(scope="module")
def servicenow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceNowEmulator]:
    with ServiceNowEmulator(state_dir=tmp_path_factory.mktemp("sn-contract")) as emulator:
        assert isinstance(emulator, ServiceNowEmulator)
        yield emulator


@pytest.fixture(scope="module")
def api(servicenow: ServiceNowEmulator) -> Iterator[httpx.Client]:
    creds = servicenow.credentials()
    with httpx.Client(
        base_url=servicenow.base_url, auth=(creds["username"], creds["password"])
    ) as client:
        yield client


def test_post_incident(api: httpx.Client) -> None:
    example = fixture("table_post_incident")
    answer = api.post(example["request"]["path"], json=example["request"]["body"])
    assert answer.status_code == example["response"]["status"]
    theirs = example["response"]["body"]["result"]
    ours = answer.json()["result"]
    same_shape(ours, theirs, set(theirs))
    assert ours["assignment_group"]["value"] == theirs["assignment_group"]["value"]
    assert answer.headers["Location"].endswith(f"/api/now/table/incident/{ours['sys_id']}")
    # What the notifier keeps of a created incident: its number, whichever way it is shown.
    assert _value(theirs["number"]) == "INC0010002"


def test_get_incident(api: httpx.Client) -> None:
    example = fixture("table_get_incident")
    theirs = example["response"]["body"]["result"]
    created = api.post(
        "/api/now/table/incident",
        json={
            k: (v["value"] if isinstance(v, dict) else v)
            for k, v in theirs.items()
            if not k.startswith("sys_") and k != "number"
        },
    ).json()["result"]
    answer = api.get(f"/api/now/table/incident/{created['sys_id']}")
    assert answer.status_code == example["response"]["status"]
    ours = answer.json()["result"]
    same_shape(ours, theirs, set(theirs) - {"sys_class_name"})


def test_patch_incident(api: httpx.Client) -> None:
    example = fixture("table_patch_incident")
    theirs = example["response"]["body"]["result"]
    created = api.post(
        "/api/now/table/incident",
        json={
            "short_description": theirs["short_description"],
            "category": "hardware",
            "assignment_group": theirs["assignment_group"]["value"],
        },
    ).json()["result"]
    answer = api.patch(
        f"/api/now/table/incident/{created['sys_id']}", json=example["request"]["body"]
    )
    assert answer.status_code == example["response"]["status"]
    ours = answer.json()["result"]
    same_shape(ours, theirs, set(theirs))
    assert ours["assigned_to"]["value"] == theirs["assigned_to"]["value"]
    assert ours["urgency"] == "1"


def test_get_list_and_the_notifier_reads_a_group_lookup(
    servicenow: ServiceNowEmulator, api: httpx.Client
) -> None:
    example = fixture("table_get_list_problem")
    (theirs,) = example["response"]["body"]["result"]
    servicenow.seed(
        {"problem": [{k: (v["value"] if isinstance(v, dict) else v) for k, v in theirs.items()}]}
    )
    answer = api.get(example["request"]["path"], params=example["request"]["params"])
    assert answer.status_code == example["response"]["status"]
    (ours,) = answer.json()["result"]
    same_shape(ours, theirs, set(theirs) - {"sys_class_name"})
    assert ours["opened_by"] == {
        "link": f"{api.base_url}/api/now/table/sys_user/glide.maint",
        "value": "glide.maint",
    }
    assert answer.headers["X-Total-Count"] == "1"


def test_delete_incident(api: httpx.Client) -> None:
    example = fixture("table_delete_incident")
    created = api.post("/api/now/table/incident", json={"short_description": "gone"}).json()
    answer = api.delete(f"/api/now/table/incident/{created['result']['sys_id']}")
    assert answer.status_code == example["response"]["status"] and answer.content == b""
