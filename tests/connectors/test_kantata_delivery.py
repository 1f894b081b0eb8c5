"""Deliveries into Kantata under faults, through the engine: no twin (issue 14 defect 1).

Projects captured from one system are routed to a Kantata emulator that answers the issue's
fault mix (20% 429/500/503, 3% timeouts, 3% dropped connections). The engine's delivery
workflow replays each failed batch; every workspace must end up in Kantata exactly once, with
pssync's external reference, and no delivery exception left open. Before, the create and the
external ID were two calls, and a failure between them made the replay create a twin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.connectors.kantata import KantataConnector, KantataSettings
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.outbound import EntityRoute, register_route
from pssync.engine.runtime import DeliveryPolicy, Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ACTIVE, ExceptionStore
from pssync.mapping import Translator, load_spec
from pssync.sandbox.kantata import KantataEmulator
from pssync.store import GoldenStore, open_engine

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/kantata/mapping.yaml"
ROUTE = "test_kantata_projects_to_psa"
WORKSPACES = 24
FAULTS = {
    "error_rate": 0.2,
    "error_statuses": [429, 500, 503],
    "retry_after": 0,
    "timeout_rate": 0.03,
    "timeout_seconds": 0.6,
    "drop_rate": 0.03,
    "seed": 1,
}
CALM = {"error_rate": 0.0, "timeout_rate": 0.0, "drop_rate": 0.0}
POLICY = DeliveryPolicy(
    max_attempts=30, base_delay=0.01, max_delay=0.05, breaker_threshold=1000, breaker_cooldown=0.1
)
register_route(ROUTE)(
    EntityRoute(ROUTE, "Project", "crm", "psa", "workspaces", "external_id", external_id_length=64)
)


def factory(emulator: KantataEmulator) -> Callable[[], KantataConnector]:
    settings = KantataSettings.model_validate(
        {"base_url": emulator.base_url, "token": emulator.token, "timeout": 0.3}
    )
    return lambda: KantataConnector(settings)


def listed(emulator: KantataEmulator, key: str, **params: Any) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    body = httpx.get(
        f"{emulator.base_url}/api/v1/{key}.json",
        params={**params, "per_page": 200},
        headers=headers,
        timeout=10,
    ).json()
    return [body[key][r["id"]] for r in body["results"]]


@pytest.fixture
def psa(tmp_path: Path) -> Iterator[tuple[Runtime, KantataEmulator, ExceptionStore]]:
    url = f"sqlite:///{tmp_path}/pssync.db"
    store = GoldenStore(open_engine(url))
    exceptions = ExceptionStore(store.engine)
    with KantataEmulator() as source, KantataEmulator() as target:
        source.seed(
            {
                "workspaces": [
                    {
                        "id": str(500 + i),
                        "title": f"Routed project {i}",
                        "currency": "USD",
                        "workspace_group_ids": ["77"],
                    }
                    for i in range(WORKSPACES)
                ]
            }
        )
        translator = Translator(load_spec(MAPPING))
        runtime = Runtime(
            store=store,
            exceptions=exceptions,
            connectors={"source": factory(source), "psa": factory(target)},
            translators={"source": translator, "psa": translator},
            roles={"source": "crm", "psa": "psa"},
            delivery=POLICY,
            routes=[ROUTE],
        )
        start(runtime, url, polling_interval=0.05)
        try:
            yield runtime, target, exceptions
        finally:
            dbos_app.shutdown()
            set_runtime(None)


def test_deliveries_under_faults_create_each_workspace_once(
    psa: tuple[Runtime, KantataEmulator, ExceptionStore],
) -> None:
    runtime, target, exceptions = psa
    httpx.put(f"{target.base_url}/__admin/faults", json=FAULTS, timeout=5).raise_for_status()
    try:
        report = Poller(runtime, "source", "workspaces").run()
        assert report.counts.get("applied") == WORKSPACES
        assert wait_idle(120), "deliveries still running"
    finally:
        httpx.put(f"{target.base_url}/__admin/faults", json=CALM, timeout=5).raise_for_status()
    assert not exceptions.find(states=[s.value for s in ACTIVE])
    seen = httpx.get(f"{target.base_url}/__admin/requests", timeout=5).json()
    assert seen.get("POST /api/v1/workspaces.json", 0) >= WORKSPACES
    titles = Counter(w["title"] for w in listed(target, "workspaces", include_archived="true"))
    assert titles == Counter(f"Routed project {i}" for i in range(WORKSPACES))
    refs = listed(target, "external_references", subject_type="Workspace", service_name="pssync")
    assert len({r["service_model_ref"] for r in refs}) == len(refs) == WORKSPACES
    assert not exceptions.find(states=[s.value for s in ACTIVE])
