"""The oracle names every duplicate, loss and changed field, and nothing the vendor assigns."""

from __future__ import annotations

import copy
from typing import Any

from .oracle import EndState, Table, compare


def state(workspaces: list[dict[str, Any]], stories: list[dict[str, Any]]) -> EndState:
    return EndState(
        targets={
            "kantata": {
                "workspaces": Table("id", "external_id", workspaces),
                "stories": Table("id", "external_id", stories),
            }
        },
        golden={"Project": len(workspaces)},
        xrefs={"kantata/Project": len(workspaces)},
    )


def clean() -> EndState:
    return state(
        [
            {"id": "1", "external_id": "prj-a", "title": "Bellows 2025", "updated_at": "t1"},
            {"id": "2", "external_id": None, "title": "Seeded", "updated_at": "t1"},
        ],
        [{"id": "10", "external_id": "st-a", "workspace_id": "1", "title": "Design"}],
    )


def test_the_same_end_state_with_other_vendor_ids_and_stamps_has_no_difference() -> None:
    other = state(
        [
            {"id": "7", "external_id": "prj-a", "title": "Bellows 2025", "updated_at": "t9"},
            {"id": "2", "external_id": None, "title": "Seeded", "updated_at": "t5"},
        ],
        [{"id": "12", "external_id": "st-a", "workspace_id": "7", "title": "Design"}],
    )
    assert compare(clean(), other).differences == []


def test_a_second_workspace_without_its_key_is_reported_with_its_name() -> None:
    run = clean()
    run.targets["kantata"]["workspaces"].rows.append(
        {"id": "3", "external_id": None, "title": "Bellows 2025", "updated_at": "t2"}
    )
    verdict = compare(clean(), run)
    assert [str(d) for d in verdict.differences] == [
        "extra     kantata/workspaces id:3 (title='Bellows 2025')"
    ]


def test_duplicates_losses_and_changed_fields_name_system_object_key_and_field() -> None:
    run = clean()
    workspaces = run.targets["kantata"]["workspaces"].rows
    workspaces.append(copy.deepcopy(workspaces[0]) | {"id": "4"})
    run.targets["kantata"]["stories"].rows[0]["title"] = "Build"
    run.targets["kantata"]["stories"].rows.append(
        {"id": "11", "external_id": "st-b", "workspace_id": "1", "title": "Test"}
    )
    run.golden["Project"] = 3
    lost = clean()
    lost.targets["kantata"]["stories"].rows.append(
        {"id": "13", "external_id": "st-c", "workspace_id": "1", "title": "Deploy"}
    )
    verdict = compare(lost, run)
    assert verdict.duplicates == 2 and verdict.lost == 1
    assert [str(d) for d in verdict.differences] == [
        "duplicate kantata/workspaces ext:prj-a 2 records, clean 1",
        "field     kantata/stories ext:st-a title: 'Design' -> 'Build'",
        "extra     kantata/stories ext:st-b (title='Test')",
        "lost      kantata/stories ext:st-c (title='Deploy')",
        "duplicate pssync/golden Project 3 records, clean 2",
    ]


def test_a_reference_to_another_created_record_is_compared_as_that_records_key() -> None:
    run = clean()
    run.targets["kantata"]["stories"].rows[0]["workspace_id"] = "2"  # the seeded workspace
    verdict = compare(clean(), run)
    assert [str(d) for d in verdict.differences] == [
        "field     kantata/stories ext:st-a workspace_id: 'workspaces:ext:prj-a' -> '2'"
    ]
