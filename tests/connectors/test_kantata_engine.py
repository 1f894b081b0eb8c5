"""Kantata through the product path: emulator -> connector -> engine -> golden store.

One Kantata emulator seeded with the small firm's Kantata view (its time entries trimmed to 2,000
so that a capture is quick) and one DBOS launch for the module. The tests cover what the
fidelity issues found: resource requests land in the golden store, capture converges under the
chaos suite's fault mix (issue 14 defect 4: the whole change set used to be read before the first
page, so at 20% faults no read ever succeeded), and reconciliation with repair does not turn an
archived workspace into a hard delete (Kantata hides archived workspaces unless asked).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.connectors.kantata import KantataConnector, KantataSettings
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.reconcile import reconcile
from pssync.engine.runtime import DeliveryPolicy, Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping import Translator, load_spec
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.kantata import KantataEmulator
from pssync.store import GoldenStore, open_engine

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/kantata/mapping.yaml"
TIME_ENTRIES = 2000
PAGE = 50  # 40 pages of time entries, about as many as the 44
CLIENT_TIMEOUT = 0.3  # shorter than the injected sleep, so the client really times out
CHAOS = {
    "error_rate": 0.20,
    "error_statuses": [429, 500, 503],
    "retry_after": 0,
    "timeout_rate": 0.03,
    "timeout_seconds": 1.0,
    "seed": 14,
}
CALM = {"error_rate": 0.0, "timeout_rate": 0.0}
POLICY = DeliveryPolicy(
    max_attempts=10, base_delay=0.02, max_delay=0.2, breaker_threshold=50, breaker_cooldown=0.2
)


@functools.cache
def _view() -> dict[str, list[dict[str, Any]]]:
    view = generate_firm("small").views["kantata"]
    return {k: (rows[:TIME_ENTRIES] if k == "time_entries" else rows) for k, rows in view.items()}


@dataclass
class Env:
    store: GoldenStore
    exceptions: ExceptionStore
    runtime: Runtime
    emulator: KantataEmulator

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.emulator.token}"}
        url = f"{self.emulator.base_url}/api/v1{path}"
        return httpx.request(method, url, headers=headers, timeout=10, **kwargs)

    def faults(self, values: dict[str, Any]) -> None:
        url = f"{self.emulator.base_url}/__admin/faults"
        httpx.put(url, json=values, timeout=5).raise_for_status()

    def golden(self, entity: str) -> list[dict[str, Any]]:
        return [v.payload for v in self.store.iter_records(entity)]


def factory(emulator: KantataEmulator) -> Callable[[], KantataConnector]:
    settings = KantataSettings.model_validate(
        {
            "base_url": emulator.base_url,
            "token": emulator.token,
            "page_size": PAGE,
            "timeout": CLIENT_TIMEOUT,
        }
    )
    return lambda: KantataConnector(settings)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("kantata-engine")
    url = f"sqlite:///{base}/pssync.db"
    store = GoldenStore(open_engine(url))
    exceptions = ExceptionStore(store.engine)
    with KantataEmulator() as emulator:
        emulator.seed(copy.deepcopy(_view()))
        runtime = Runtime(
            store=store,
            exceptions=exceptions,
            connectors={"kantata": factory(emulator)},
            translators={"kantata": Translator(load_spec(MAPPING))},
            roles={"kantata": "psa"},
            delivery=POLICY,
        )
        start(runtime, url, polling_interval=0.05)
        try:
            yield Env(store, exceptions, runtime, emulator)
        finally:
            dbos_app.shutdown()
            set_runtime(None)


def capture(env: Env, obj: str, **options: Any) -> Any:
    return Poller(env.runtime, "kantata", obj, sleep=lambda _: None, **options).run()


def test_resource_requests_land_in_the_golden_store(env: Env) -> None:
    capture(env, "workspaces")
    capture(env, "resource_requests")
    requests = _view()["resource_requests"]
    resources = {r["id"]: r for r in _view()["workspace_resources"]}
    golden = env.golden("ResourceRequest")
    assert len(golden) == len(requests) > 0
    by_source = {}
    for request in requests:
        found = env.store.resolve_xref("kantata", "resource_requests", request["id"])
        assert found is not None and found[0] == "ResourceRequest", request
        by_source[request["id"]] = found[1]
    sample = requests[0]
    record = env.store.get("ResourceRequest", by_source[sample["id"]])
    assert record is not None
    resource = resources[sample["resource_id"]]
    payload = record.payload
    assert Decimal(payload["hours"]) == Decimal(resource["total_allocated_minutes"]) / 60
    assert payload["start_date"] == resource["earliest_allocation_date"]
    assert payload["end_date"] == resource["latest_allocation_date"]
    assert payload["role_id"].startswith("role-")
    assert payload["status"] == {"pending": "open", "approved": "filled"}[sample["status"]]
    assert {p["status"] for p in golden} <= {"open", "filled"}


def test_capture_converges_page_by_page_under_faults(env: Env) -> None:
    """Reads are retried in the request and the capture resumes from the last page applied;
    either way the faults must really hit the read: more requests than pages."""
    httpx.delete(f"{env.emulator.base_url}/__admin/requests", timeout=5).raise_for_status()
    env.faults(CHAOS)
    try:
        report = capture(env, "time_entries", max_retries=8)
    finally:
        env.faults(CALM)
    served = httpx.get(f"{env.emulator.base_url}/__admin/requests", timeout=5).json()
    reads = sum(n for key, n in served.items() if key.startswith("GET ") and "time_entries" in key)
    assert reads > report.pages + 3
    assert len(env.golden("TimeEntry")) == TIME_ENTRIES
    again = capture(env, "time_entries")  # caught up: nothing left to apply
    assert again.records == 0
    assert wait_idle(30)


def test_reconcile_keeps_archived_workspaces(env: Env) -> None:
    capture(env, "workspaces")
    live = [w for w in _view()["workspaces"] if not w["archived"]]
    target = live[0]["id"]
    assert env.api("PUT", f"/workspaces/{target}.json", json={"workspace": {"archived": True}})
    listed = env.api("GET", "/workspaces.json", params={"only": target}).json()
    assert listed["count"] == 0  # Kantata hides archived workspaces unless asked
    report = reconcile(env.runtime, "kantata", "workspaces", repair=True, run_id="archived")
    assert report.deleted == []
    assert not env.exceptions.find(category="hard_delete", system="kantata")
    found = env.store.resolve_xref("kantata", "workspaces", target)
    assert found is not None
    record = env.store.get("Project", found[1], include_deleted=True)
    assert record is not None and not record.deleted
    assert wait_idle(30)
