"""Pre-sync validation names what is missing in words a business owner can act on."""

from __future__ import annotations

import pytest

from pssync.governance.validation import HandoffValidator
from pssync.samples import sample_lines
from pssync.store import GoldenStore
from pssync.store.jsonl import import_lines


@pytest.fixture
def sample(store: GoldenStore) -> GoldenStore:
    import_lines(store, sample_lines())
    return store


def test_clean_deal_with_complete_customer_passes(sample: GoldenStore) -> None:
    # opp-1 (the worked example) has service line, region, role mix; Northwind is complete
    # except for its tax code, which the sample leaves out on purpose.
    violations = HandoffValidator(sample).closed_won_handoff("opp-1")
    assert [(v.category, v.field) for v in violations] == [("invalid_tax_code", "tax_code_id")]
    assert violations[0].message.startswith("Northwind Traders: tax code None")


def test_incomplete_deal_and_customer(sample: GoldenStore) -> None:
    violations = HandoffValidator(sample).closed_won_handoff("opp-4")  # Umbrella: no legal entity
    found = {(v.entity_type, v.category, v.field) for v in violations}
    assert ("Account", "missing_legal_entity", "legal_entity_id") in found
    assert ("Opportunity", "missing_attribute", "line_items") in found
    assert ("Opportunity", "missing_attribute", "region_id") in found
    message = next(v.message for v in violations if v.category == "missing_legal_entity")
    assert (
        message
        == "Umbrella Health has no valid legal entity: set the contracting entity on the account"
    )


def test_unknown_deal(sample: GoldenStore) -> None:
    (violation,) = HandoffValidator(sample).opportunity_to_project("opp-404")
    assert violation.field == "id"
