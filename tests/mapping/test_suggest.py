""" "Did you mean": a crosswalk miss names the known values most like it, with scores."""

from __future__ import annotations

import pytest

from pssync.mapping.spec import MappingSpec
from pssync.mapping.suggest import suggest
from pssync.mapping.translator import TranslationError, Translator

TABLE = {"GTX Pro": "sl-gtx", "GTX Basic": "sl-gtx", "MG Special": "sl-mg", "GTK 500": "sl-gtk"}


def test_respellings_come_first_with_their_score() -> None:
    found = suggest("GTXPro", TABLE)
    assert found[0].value == "GTX Pro" and found[0].maps_to == "sl-gtx"
    assert found[0].score == 1.0  # the same letters, spaced otherwise
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert suggest("MG Specail", TABLE)[0].value == "MG Special"


def test_nothing_alike_suggests_nothing() -> None:
    assert suggest("Quantum Consulting", TABLE) == ()
    assert suggest("GTXPro", {}) == ()


def test_the_translators_miss_carries_the_suggestion() -> None:
    spec = MappingSpec.model_validate(
        {
            "system": "crm",
            "objects": {
                "Deal": {
                    "entity": "Opportunity",
                    "fields": {"service_line_id": {"from": "Product", "crosswalk": "product"}},
                }
            },
            "crosswalks": {"product": TABLE},
        }
    )
    with pytest.raises(TranslationError) as caught:
        Translator(spec).to_canonical("Deal", {"Id": "1", "Product": "GTXPro"})
    (problem,) = caught.value.problems
    assert problem.suggestions[0].value == "GTX Pro"
    assert "did you mean 'GTX Pro' (-> sl-gtx, score 1.00)?" in str(caught.value)
