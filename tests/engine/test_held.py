"""A full sync's re-read of the records that name a held record which landed since."""

from __future__ import annotations

from pssync.engine.held import Held
from pssync.engine.records import event_of


def _workspace(deal: str, name: str = "Workspace") -> dict:
    return {
        "id": "ws-1",
        "modified_at": "2026-01-01T00:00:00Z",
        "data": {"title": name, "ref": [deal]},
    }


def test_a_record_naming_a_landed_deal_is_read_again_as_a_new_event() -> None:
    held = Held("kantata", "workspaces", landed={"006A"})
    record = _workspace("006A")
    tagged = held.tag_record(record)
    assert tagged.get("tag")
    assert (
        event_of("kantata", "workspaces", tagged).key
        != event_of("kantata", "workspaces", record).key
    )


def test_the_next_full_sync_reads_it_as_the_same_event_until_another_named_record_lands() -> None:
    first = Held("kantata", "workspaces", landed={"006A", "006B"}).tag_record(_workspace("006A"))
    again = Held("kantata", "workspaces", landed={"006A", "006B"}).tag_record(_workspace("006A"))
    assert (
        event_of("kantata", "workspaces", first).key == event_of("kantata", "workspaces", again).key
    )
    record = {**_workspace("006A"), "data": {"title": "W", "ref": ["006A", "006C"]}}
    before = Held("kantata", "workspaces", landed={"006A"}).tag_record(record)
    after = Held("kantata", "workspaces", landed={"006A", "006C"}).tag_record(record)
    assert before["tag"] != after["tag"]


def test_a_record_naming_nothing_landed_is_read_as_it_is() -> None:
    record = _workspace("006Z")
    assert Held("kantata", "workspaces", landed={"006A"}).tag_record(record) is record
