"""Kantata creates under faults: no twin, every child created (issue 14 defect 1).

The engine replays a whole delivery batch after a retriable failure (429, 5xx, timeout, dropped
connection). Here each batch is replayed the same way until it goes through, with the issue's
fault mix on the emulator for every call: workspaces first, then three stories under each,
addressed by the Kantata ID the workspace batch returned. Kantata must end with each workspace
and story exactly once, each carrying its external reference.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from pssync.connectors.base import UpsertResult
from pssync.connectors.errors import RetriableError
from pssync.connectors.kantata import KantataConnector, KantataSettings
from pssync.sandbox.kantata import KantataEmulator

pytestmark = pytest.mark.integration

WORKSPACES, STORIES_EACH = 30, 3
FAULTS = {
    "error_rate": 0.2,
    "error_statuses": [429, 500, 503],
    "retry_after": 0,
    "timeout_rate": 0.03,
    "timeout_seconds": 0.6,
    "drop_rate": 0.03,
    "seed": 7,
}


def replayed(conn: KantataConnector, obj: str, rows: list[dict[str, Any]]) -> list[UpsertResult]:
    """`upsert` replayed whole after each retriable failure, as delivery does."""
    for _ in range(200):
        try:
            return conn.upsert(obj, "external_id", rows)
        except RetriableError:
            continue
    raise AssertionError(f"{obj}: no batch went through in 200 replays")


def listed(emulator: KantataEmulator, key: str, **params: Any) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        body = httpx.get(
            f"{emulator.base_url}/api/v1/{key}.json",
            params={**params, "page": page, "per_page": 200},
            headers=headers,
            timeout=10,
        ).json()
        out += [body[key][r["id"]] for r in body["results"]]
        if page >= body["meta"]["page_count"]:
            return out
        page += 1


def test_faults_during_creates_leave_no_twin_and_every_story() -> None:
    with KantataEmulator() as emulator:
        settings = KantataSettings.model_validate(
            {"base_url": emulator.base_url, "token": emulator.token, "timeout": 0.3}
        )
        conn = KantataConnector(settings)
        httpx.put(f"{emulator.base_url}/__admin/faults", json=FAULTS).raise_for_status()
        workspaces = [
            {"external_id": f"prj-{i}", "title": f"Bellows Retail {i} 2025"}
            for i in range(WORKSPACES)
        ]
        made = replayed(conn, "workspaces", workspaces)
        assert all(r.error is None and r.id for r in made), made  # created, or found again
        ids = {r.external_id: r.id for r in made}
        stories = [
            {"external_id": f"wbs-{i}-{n}", "title": f"Phase {n}", "workspace_id": ids[f"prj-{i}"]}
            for i in range(WORKSPACES)
            for n in range(STORIES_EACH)
        ]
        done = replayed(conn, "stories", stories)
        assert all(r.error is None for r in done), [r for r in done if r.error]
        calm = {"error_rate": 0, "timeout_rate": 0, "drop_rate": 0}
        httpx.put(f"{emulator.base_url}/__admin/faults", json=calm).raise_for_status()

        titles = Counter(
            w["title"] for w in listed(emulator, "workspaces", include_archived="true")
        )
        assert titles == Counter(w["title"] for w in workspaces)  # each once, none twice
        per_workspace = Counter(s["workspace_id"] for s in listed(emulator, "stories"))
        assert per_workspace == Counter({ws: STORIES_EACH for ws in ids.values()})
        for subject, n in (("Workspace", WORKSPACES), ("Story", WORKSPACES * STORIES_EACH)):
            refs = listed(
                emulator, "external_references", subject_type=subject, service_name="pssync"
            )
            assert len({r["subject_id"] for r in refs}) == len(refs) == n


def test_a_create_whose_answer_is_lost_is_found_not_repeated() -> None:
    """The worst case the fault injector cannot make: Kantata applied the create, then the
    answer was lost (a timeout after the server committed). Every third POST here goes through
    and then fails as a timeout would; the replayed batches must still leave one of each."""
    with KantataEmulator() as emulator:
        settings = KantataSettings.model_validate(
            {"base_url": emulator.base_url, "token": emulator.token}
        )
        conn = KantataConnector(settings)
        real_call = conn.transport.call
        posts = 0

        def lossy(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            nonlocal posts
            answer = real_call(method, path, **kwargs)
            if method == "POST":
                posts += 1
                if posts % 3 == 0:
                    raise RetriableError("ReadTimeout: answer lost", system="kantata")
            return answer

        conn.transport.call = lossy  # type: ignore[method-assign]
        rows = [{"external_id": f"lost-{i}", "title": f"Lost answer {i}"} for i in range(12)]
        made = replayed(conn, "workspaces", rows)
        assert all(r.error is None and r.id for r in made)
        titles = Counter(
            w["title"] for w in listed(emulator, "workspaces", include_archived="true")
        )
        assert titles == Counter(r["title"] for r in rows)
        assert len({r.id for r in made}) == len(rows)
