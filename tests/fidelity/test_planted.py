"""Exceptions scored against the planted misalignments."""

from __future__ import annotations

from fidelity_helpers import exception

from pssync.fidelity.planted import score
from pssync.fidelity.truth import Planted

FREE_TEXT = Planted("free_text_service_category", "salesforce", "Opportunity", "006A")
DUPLICATE = Planted("duplicate_customer", "salesforce", "Account", "001B", "duplicate of 001A (x)")
STALE = Planted("stale_stage", "salesforce", "Opportunity", "006C")


def test_precision_and_recall() -> None:
    exceptions = [
        exception("unmapped_value", id="e1", system="salesforce", source_id="006A"),
        exception(
            "orphan_line_item",
            id="e2",
            system="salesforce",
            source_id="006A",
            details={"parent": "006A"},
        ),  # a consequence of the held-back deal
        exception("duplicate_customer", id="e3", entity_type="Account", record_id="account-b"),
        exception("unmapped_value", id="e4", system="salesforce", source_id="006Z"),  # a gap
        exception("resource_conflict", id="e5"),  # a business signal: not scored
    ]
    sources = {("Account", "account-b"): {("salesforce", "Account", "001B")}}
    result = score([FREE_TEXT, DUPLICATE, STALE], exceptions, sources)
    assert (result.planted, result.detected) == (3, 2)
    assert (result.exceptions, result.true_exceptions, result.signals) == (4, 3, 1)
    assert result.recall == 2 / 3 and result.precision == 3 / 4
    assert result.undetected == [STALE]
    assert [e.id for e in result.false_alarms] == ["e4"]


def test_a_wrong_category_on_the_right_record_does_not_detect() -> None:
    result = score(
        [STALE], [exception("unmapped_value", system="salesforce", source_id="006C")], {}
    )
    assert result.detected == 0 and result.true_exceptions == 0


def test_absorbed_problems_count_as_detected() -> None:
    result = score([FREE_TEXT], [], {}, absorbed=[FREE_TEXT])
    assert result.recall == 1.0 and result.absorbed == 1 and result.precision is None
