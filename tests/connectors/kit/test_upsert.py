"""The kit's upsert-by-external-ID template against a small in-memory system that behaves like
a vendor upsert with create-only and update-only conditions."""

from __future__ import annotations

from typing import Any

import pytest

from pssync.connectors.base import Outcome
from pssync.connectors.errors import PermanentError, RetriableError
from pssync.connectors.kit.upsert import (
    ExternalIdUpsert,
    Found,
    KeyGoneError,
    KeyTakenError,
)


class System:
    """Rows by external ID; `hidden` keys are missed by the look-up (a create that landed
    after the batch looked)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, dict[str, Any]]] = {}
        self.hidden: set[str] = set()
        self.calls: list[str] = []

    def lookup(self, keys: list[str]) -> dict[str, Found]:
        self.calls.append("lookup")
        return {k: Found(*self.rows[k]) for k in keys if k in self.rows and k not in self.hidden}

    def create(self, key: str, body: dict[str, Any]) -> str:
        self.calls.append("create")
        self.hidden.discard(key)
        if key in self.rows:
            raise KeyTakenError
        if body.get("name") == "refused":
            raise PermanentError("name refused", field="name")
        self.rows[key] = (f"id-{len(self.rows)}", dict(body))
        return self.rows[key][0]

    def update(self, key: str, record_id: str, body: dict[str, Any]) -> None:
        self.calls.append("update")
        if key not in self.rows:
            raise KeyGoneError
        self.rows[key][1].update(body)

    def template(self, **more: Any) -> ExternalIdUpsert:
        calls = {"lookup": self.lookup, "create": self.create, "update": self.update}
        return ExternalIdUpsert("test", "ext", **(calls | more))


def test_created_then_unchanged_then_updated() -> None:
    system = System()
    records = [{"ext": "A", "name": "a", "amount": "10.0"}, {"ext": "B", "name": "b"}]
    assert [r.outcome for r in system.template().run(records)] == [Outcome.CREATED] * 2
    system.calls.clear()
    again = system.template().run([{"ext": "A", "name": "a", "amount": 10}])
    assert again[0].outcome is Outcome.UNCHANGED and system.calls == ["lookup"]
    changed = system.template().run([{"ext": "B", "name": "b2"}])
    assert (changed[0].outcome, changed[0].id) == (Outcome.UPDATED, "id-1")


def test_a_create_that_finds_its_key_taken_updates_instead() -> None:
    system = System()
    system.template().run([{"ext": "A", "name": "a"}])
    system.hidden.add("A")
    (result,) = system.template().run([{"ext": "A", "name": "a2"}])
    assert (result.outcome, result.id) == (Outcome.UPDATED, "id-0")
    assert len(system.rows) == 1 and system.rows["A"][1]["name"] == "a2"


def test_an_update_of_a_deleted_record_creates_it_again() -> None:
    system = System()
    system.template().run([{"ext": "A", "name": "a"}])
    stale = system.lookup(["A"])
    del system.rows["A"]
    template = system.template(lookup=lambda keys: stale)
    (result,) = template.run([{"ext": "A", "name": "a2"}])
    assert result.outcome is Outcome.CREATED


def test_refusals_fail_their_record_alone_naming_it() -> None:
    system = System()

    def check(key: str, body: dict[str, Any]) -> PermanentError | None:
        return PermanentError("too long", field="code") if len(body.get("code", "")) > 3 else None

    results = system.template(check=check).run(
        [
            {"ext": "A", "name": "refused"},
            {"ext": "", "name": "x"},
            {"ext": "C", "code": "long"},
            {"ext": "D", "name": "d"},
        ]
    )
    assert [r.outcome for r in results] == [Outcome.FAILED] * 3 + [Outcome.CREATED]
    assert [(r.error.record_id, r.error.field) for r in results[:3] if r.error] == [
        ("A", "name"),
        ("", "ext"),
        ("C", "code"),
    ]


def test_read_only_objects_fail_every_record_unsent() -> None:
    system = System()
    results = system.template(read_only="schedule APIs only").run([{"ext": "A"}, {"ext": "B"}])
    assert all(r.outcome is Outcome.FAILED for r in results) and system.calls == []


def test_retriable_errors_abort_the_batch() -> None:
    system = System()

    def flaky(key: str, body: dict[str, Any]) -> str:
        raise RetriableError("503", retry_after=1)

    with pytest.raises(RetriableError):
        system.template(create=flaky).run([{"ext": "A"}])


def test_keys_are_compared_as_the_system_compares_them() -> None:
    system = System()
    system.template().run([{"ext": "abc", "name": "a"}])
    upper = system.template(
        normalise=str.casefold, lookup=lambda keys: {"abc": Found("id-0", {"name": "a"})}
    )
    assert upper.run([{"ext": "ABC", "name": "a"}])[0].outcome is Outcome.UNCHANGED


def test_lists_compare_element_by_element_ids_as_text_or_numbers() -> None:
    system = System()
    system.template().run([{"ext": "L", "ids": [1, 2]}])
    system.calls.clear()
    same = system.template().run([{"ext": "L", "ids": ["1", "2"]}])
    assert same[0].outcome is Outcome.UNCHANGED and system.calls == ["lookup"]
    longer = system.template().run([{"ext": "L", "ids": ["1", "2", "3"]}])
    assert longer[0].outcome is Outcome.UPDATED


def test_a_record_whose_fields_were_not_read_is_updated() -> None:
    system = System()
    system.template().run([{"ext": "U", "name": "u"}])
    unread = system.template(lookup=lambda keys: {"U": Found(system.rows["U"][0], None)})
    assert unread.run([{"ext": "U", "name": "u"}])[0].outcome is Outcome.UPDATED
