"""The synthetic firm's Salesforce view loads as-is, including its custom sales process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce

from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration
firm_generate = pytest.importorskip("pssync.sandbox.firm.generate")


@pytest.fixture(scope="module")
def view() -> dict[str, list[dict[str, Any]]]:
    views: dict[str, list[dict[str, Any]]] = firm_generate.generate_firm("small").views[
        "salesforce"
    ]
    return views


@pytest.fixture(scope="module")
def emulator(view: dict[str, list[dict[str, Any]]]) -> Iterator[SalesforceEmulator]:
    running = SalesforceEmulator()
    running.start()
    try:
        running.seed(view)
        yield running
    finally:
        running.stop()


def test_every_seeded_object_is_queryable(
    sf: Salesforce, view: dict[str, list[dict[str, Any]]]
) -> None:
    for name, rows in view.items():
        extra = 1 if name == "User" else 0  # the emulator's integration user
        assert sf.query(f"SELECT COUNT() FROM {name}")["totalSize"] == len(rows) + extra
    some = view["Opportunity"][0]
    record = sf.Opportunity.get(some["Id"])
    assert record["StageName"] == some["StageName"] and record["Name"] == some["Name"]


def test_custom_stages_are_learned_and_drive_updates(
    sf: Salesforce, view: dict[str, list[dict[str, Any]]]
) -> None:
    stages = {r["StageName"] for r in view["Opportunity"]}
    described = sf.Opportunity.describe()["fields"]
    picklist = {
        p["value"] for f in described if f["name"] == "StageName" for p in f["picklistValues"]
    }
    assert stages <= picklist
    target = next(r for r in view["Opportunity"] if r["StageName"] == "Closed Lost")
    sf.Opportunity.update(target["Id"], {"StageName": "Closed Won"})
    record = sf.Opportunity.get(target["Id"])
    assert (record["IsClosed"], record["IsWon"], record["Probability"]) == (True, True, 100)
