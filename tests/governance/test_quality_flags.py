"""A quality flag is raised while a record has the problem and resolved when a later version no
longer has it, whether or not the page's memo of active fingerprints is used."""

from __future__ import annotations

from typing import Any

import pytest

from pssync.governance.exceptions import ExceptionStore
from pssync.governance.quality import flag
from pssync.model import parse_record
from pssync.store import GoldenStore


@pytest.mark.parametrize("same_page", [False, True])
def test_a_flag_resolves_once_the_problem_is_gone(store: GoldenStore, same_page: bool) -> None:
    exceptions = ExceptionStore(store.engine)
    record = parse_record("Account", {"id": "acc-q1", "name": "Quality Co"})
    other = parse_record("Account", {"id": "acc-q2", "name": "Other Co"})

    def check(record: Any, active: bool, memo: dict[Any, Any]) -> None:
        flag(exceptions, "missing_legal_entity", None, record, "legal_entity_id", "no entity",
             active=active, memo=memo)  # fmt: skip

    first: dict[Any, Any] = {}
    check(record, True, first)
    check(other, False, first)  # nothing to resolve: no query, nothing raised
    assert [e.record_id for e in exceptions.find(category="missing_legal_entity")] == ["acc-q1"]
    check(record, False, first if same_page else {})
    found = exceptions.find(category="missing_legal_entity", states=["resolved"])
    assert [e.record_id for e in found] == ["acc-q1"]
    assert not exceptions.find(category="missing_legal_entity", states=["open"])
