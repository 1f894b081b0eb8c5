"""A draft's Kantata stories under faults (issue 14): each story has its own outcome, and a story
pssync created is linked to its golden record when read back, never captured as a new one.

The flows deliver a draft project's stories with `deliver_now`. With the whole batch as one
attempt (the external-reference index, an ``only=`` read, one POST per story), a 30% fault rate
failed nearly every attempt and the batch was dead-lettered whole after its attempts, stories an
earlier attempt had created included; those came back on the next poll as new golden
WbsElements. Here the Kantata emulator fails 30% of the calls (seeded), the stories go out for
a real workspace, and then Kantata is read back through its API and polled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from pssync.engine.ids import external_id
from pssync.engine.outbound import Command
from pssync.flows.common import deliver_now
from pssync.flows.erp_targets import ROUTE
from pssync.model import parse_record
from pssync.store import Change
from pssync.store.history import utcnow
from pssync.store.tables import xref

from .conftest import FlowEnv, _truth, make_env, sf_id

pytestmark = pytest.mark.integration
STORIES = 6


def _deal_with_workspace() -> tuple[str, str, str]:
    """(deal, its project, the project's Kantata workspace) of the first such deal."""
    for (entity, project_id), p in sorted(_truth().items()):
        if entity == "Project" and p.get("opportunity_id") and "kantata:workspaces" in p["xrefs"]:
            return p["opportunity_id"], project_id, str(p["xrefs"]["kantata:workspaces"])
    raise AssertionError("the firm has no deal with a Kantata workspace")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowEnv]:
    deal, _, _ = _deal_with_workspace()
    for env in make_env(tmp_path_factory.mktemp("stories"), deals={sf_id("Opportunity", deal)}):
        # The trimmed Kantata holds only this deal's stories and numbers new ones after them,
        # so the golden store's links to the firm's other stories would claim the IDs of the
        # stories created here; a real Kantata never reuses an ID.
        held = list(env.read("kantata", "stories"))
        x = xref.c
        with env.store.engine.begin() as conn:
            conn.execute(
                sa.delete(xref).where(
                    x.system == "kantata", x.object == "stories", x.external_id.not_in(held)
                )
            )
        yield env


def set_faults(env: FlowEnv, **values: Any) -> None:
    url = f"{env.kantata.base_url}/__admin/faults"
    httpx.put(url, json=values, timeout=5).raise_for_status()


def test_a_drafts_stories_each_get_their_own_outcome_and_are_linked_when_read_back(
    env: FlowEnv,
) -> None:
    _, project_id, workspace = _deal_with_workspace()
    tasks = [
        {
            "id": f"wbs-chaos-story-{i}",
            "project_id": project_id,
            "code": f"CHAOS-{i}",
            "name": f"Chaos effort {i}",
            "planned_hours": "12",
        }
        for i in range(STORIES)
    ]
    env.store.write([Change(parse_record("WbsElement", t), utcnow(), "pssync") for t in tasks])
    commands = [
        Command(
            ROUTE,
            "kantata",
            "stories",
            "external_id",
            external_id("WbsElement", t["id"], 40),
            "WbsElement",
            t["id"],
            t,
            {"workspace_id": workspace},
            fields=["name", "planned_hours"],
        )
        for t in tasks
    ]
    set_faults(env, error_rate=0.3, error_statuses=[500, 503], retry_after=0, seed=7)
    try:
        done = deliver_now(env.runtime, commands, "test-stories", max_attempts=8)
    finally:
        set_faults(env, error_rate=0.0)

    wanted = {c.external_id for c in commands}
    assert set(done.ids) | set(done.failed) == wanted
    assert done.ids, "every story failed with the batch: outcomes are not per record"
    stories = [s for s in env.read("kantata", "stories").values() if s.get("external_id")]
    in_kantata = Counter(str(s["external_id"]) for s in stories if s["external_id"] in wanted)
    assert all(n == 1 for n in in_kantata.values()), in_kantata
    assert set(done.ids) <= set(in_kantata)
    failed = {e.source_id for e in env.active("delivery_failed")} & wanted
    assert failed == set(done.failed)

    env.poll("kantata", "stories")
    names = Counter(
        str(v.payload["name"])
        for v in env.store.iter_records("WbsElement")
        if str(v.payload["name"]).startswith("Chaos effort")
    )
    assert names == Counter({t["name"]: 1 for t in tasks}), "a story came back as a new record"
    for task in tasks:
        ext = external_id("WbsElement", task["id"], 40)
        if ext in in_kantata:
            assert "kantata:stories" in env.store.xrefs("WbsElement", task["id"]), task["id"]
