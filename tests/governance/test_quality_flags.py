"""A quality flag is raised while a record has the problem and resolved when a later version no
longer has it, whether flagged one at a time or written at the page's end (`write_flags`), where
a record's versions in one page raise and resolve in turn as they would one at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pssync.governance.exceptions import ExceptionStore
from pssync.governance.quality import flag, write_flags
from pssync.model import parse_record
from pssync.store import GoldenStore
from pssync.store.tables import audit_log, exception_record


@dataclass
class Page:
    """What `write_flags` reads of a page: its exceptions and memo."""

    exceptions: ExceptionStore
    memo: dict[Any, Any] = field(default_factory=dict)


def check(
    exceptions: ExceptionStore, record: Any, active: bool, memo: dict[Any, Any] | None
) -> None:
    flag(exceptions, "missing_legal_entity", None, record, "legal_entity_id", "no entity",
         active=active, memo=memo)  # fmt: skip


@pytest.mark.parametrize("same_page", [False, True])
def test_a_flag_resolves_once_the_problem_is_gone(store: GoldenStore, same_page: bool) -> None:
    exceptions = ExceptionStore(store.engine)
    record = parse_record("Account", {"id": "acc-q1", "name": "Quality Co"})
    other = parse_record("Account", {"id": "acc-q2", "name": "Other Co"})

    first = Page(exceptions)
    check(exceptions, record, True, first.memo)
    check(exceptions, other, False, first.memo)  # nothing to resolve: no query, nothing raised
    assert not exceptions.find(category="missing_legal_entity")  # written at the page's end
    if not same_page:
        write_flags(first)
        assert [e.record_id for e in exceptions.find(category="missing_legal_entity")] == ["acc-q1"]
    second = first if same_page else Page(exceptions)
    check(exceptions, record, False, second.memo)
    write_flags(second)
    found = exceptions.find(category="missing_legal_entity", states=["resolved"])
    assert [e.record_id for e in found] == ["acc-q1"]
    assert not exceptions.find(category="missing_legal_entity", states=["open"])


def outcome(store: GoldenStore, exceptions: ExceptionStore, skip: set[str]) -> list[Any]:
    """Each exception's record and state (but those in `skip`), and its audited moves."""
    found = [e for e in exceptions.find(category="missing_legal_entity") if e.id not in skip]
    ids = {e.id: e.record_id for e in found}
    with store.engine.connect() as conn:
        rows = conn.execute(audit_log.select().where(audit_log.c.record_id.in_(ids)))
        moves = sorted((ids[r.record_id], r.action) for r in rows)
    return [sorted((e.record_id, e.state, e.resolution or "") for e in found), moves]


def test_a_page_of_versions_ends_as_one_at_a_time(store: GoldenStore) -> None:
    """Raise, resolve, raise again, for two records interleaved in one page: the same
    exceptions, states and audited moves as flagging each version one at a time."""
    a = parse_record("Account", {"id": "acc-v1", "name": "Versions Co"})
    b = parse_record("Account", {"id": "acc-v2", "name": "Other Versions Co"})
    steps = [(a, True), (b, True), (a, False), (a, True), (b, False), (b, False), (a, True)]

    exceptions = ExceptionStore(store.engine)
    for record, active in steps:
        check(exceptions, record, active, None)
    expected = outcome(store, exceptions, set())
    with store.engine.begin() as conn:  # the page below starts from no active exception
        conn.execute(exception_record.update().values(state="ignored"))

    page = Page(exceptions)
    for record, active in steps:
        check(exceptions, record, active, page.memo)
    write_flags(page)
    assert outcome(store, exceptions, {e.id for e in exceptions.find(states=["ignored"])}) == (
        expected
    )
    assert expected[0] == [
        ("acc-v1", "open", ""),
        ("acc-v1", "resolved", "auto-resolved: fixed at the source"),
        ("acc-v2", "resolved", "auto-resolved: fixed at the source"),
    ]
