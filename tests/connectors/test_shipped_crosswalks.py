"""The shipped Salesforce and Kantata crosswalks cover the sandbox firm of every size: a value
they miss must be one the firm planted (a rep's free-text category), never a gap of pssync's own.

The medium firm has six service lines and twelve roles where the small one has four and eight;
its Cybersecurity and Managed Services deals, and its cloud engineers and change managers, must
translate like the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pssync.mapping.spec import load_spec
from pssync.mapping.translator import Translator
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.firm.misalign import FREE_TEXT_SERVICE_CATEGORY

SHIPPED = Path(__file__).parents[2] / "src/pssync/connectors"


@pytest.fixture(scope="module")
def medium() -> Any:
    return generate_firm("medium")


def _translator(system: str) -> Translator:
    return Translator(load_spec(SHIPPED / system / "mapping.yaml"))


def test_every_unmapped_salesforce_category_is_planted(medium: Any) -> None:
    sf = _translator("salesforce")
    planted = {m.record_id for m in medium.misalignments if m.kind == FREE_TEXT_SERVICE_CATEGORY}
    misses = set()
    lines = {row["Service_Category__c"] for row in medium.views["salesforce"]["Opportunity"]}
    for row in medium.views["salesforce"]["Opportunity"]:
        _, problems = sf.to_canonical_partial("Opportunity", row)
        if problems:
            misses.add(row["Id"])
            assert [p.field for p in problems] == ["service_line_id"], (row["Id"], problems)
    assert {"SEC", "AMS"} <= lines  # the six-line firm is the one tested
    assert misses <= planted, sorted(misses - planted)[:5]


def test_every_product_code_and_kantata_role_maps(medium: Any) -> None:
    walks = _translator("salesforce").spec.crosswalks
    codes = {r["ProductCode"] for r in medium.views["salesforce"]["Product2"]}
    assert codes - set(walks["product_service_line"]) == set()
    assert codes - set(walks["product_role"]) == set()
    roles = _translator("kantata").spec.crosswalks["role"]
    headlines = {u["headline"] for u in medium.views["kantata"]["users"]}
    assert headlines - set(roles) == set()
    assert {r["name"] for r in medium.views["kantata"]["roles"]} - set(roles) == set()
