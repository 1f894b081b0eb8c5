"""Exceptions scored against the planted misalignments."""

from __future__ import annotations

from fidelity_helpers import exception

from pssync.fidelity.planted import duplicate_pairs, score
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


def test_a_duplicate_flagged_on_either_record_of_the_pair_detects_it() -> None:
    """The check pairs the planted duplicate (001B) with its original (001A): an exception
    raised on the original's golden record, or naming the duplicate's as its candidate,
    detects it."""
    pairs = duplicate_pairs([DUPLICATE, STALE])
    assert pairs == {("salesforce", "001B"): ("salesforce", "001A")}
    on_original = exception("duplicate_customer", entity_type="Account", record_id="account-a")
    sources = {("Account", "account-a"): {("salesforce", "Account", "001A")}}
    result = score([DUPLICATE], [on_original], sources, pairs)
    assert result.recall == 1.0 and result.precision == 1.0
    naming = exception(
        "duplicate_customer",
        entity_type="Account",
        record_id="account-x",
        details={"candidates": [{"record_id": "account-b"}]},
    )
    sources = {("Account", "account-b"): {("salesforce", "Account", "001B")}}
    assert score([DUPLICATE], [naming], sources).recall == 1.0
    assert score([DUPLICATE], [naming], {}).false_alarms == [naming]


def test_a_duplicate_without_a_legal_entity_is_no_false_alarm() -> None:
    """A customer typed again in an ERP stands alone, without the CRM account that carries
    its contracting entity: the missing legal entity follows from the planted duplicate."""
    erp_twin = Planted("duplicate_customer", "sap_s4", "A_BusinessPartner", "1000007", "dup")
    alone = exception("missing_legal_entity", system="sap_s4", source_id="1000007")
    result = score([erp_twin], [alone], {})
    assert result.precision == 1.0 and result.recall == 0.0
    elsewhere = exception("missing_legal_entity", system="sap_s4", source_id="1000008")
    assert score([erp_twin], [elsewhere], {}).false_alarms == [elsewhere]
