"""Dynamics 365 through the product path: Dataverse emulator -> connector -> engine -> golden
store. Accounts, an opportunity, a project and its tasks are captured in reference order and
land as canonical records; each reference carries the Dataverse GUID that the xref map resolves
to the referenced canonical record (turning it into the canonical ID is governance's reference
resolution, not exercised here). A change made through the Web API comes through the next
capture once, also when the reads meet service protection 429s and 503s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_dynamics import environment, guid, settings_for

from pssync.connectors.dynamics import DynamicsConnector
from pssync.connectors.dynamics.objects import CATALOG
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.runtime import DeliveryPolicy, Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping import Translator, load_spec
from pssync.sandbox.dynamics import DynamicsEmulator
from pssync.store import GoldenStore, open_engine

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/dynamics/mapping.yaml"
POLICY = DeliveryPolicy(
    max_attempts=10, base_delay=0.02, max_delay=0.2, breaker_threshold=50, breaker_cooldown=0.2
)


@dataclass
class Env:
    store: GoldenStore
    runtime: Runtime
    emulator: DynamicsEmulator

    def canonical_id(self, obj: str, row_id: str) -> str:
        found = self.store.resolve_xref("dynamics", obj, row_id)
        assert found is not None, (obj, row_id)
        return str(found[1])

    def payload(self, entity: str, obj: str, row_id: str) -> dict[str, Any]:
        record = self.store.get(entity, self.canonical_id(obj, row_id))
        assert record is not None
        return dict(record.payload)


def factory(emulator: DynamicsEmulator) -> Callable[[], DynamicsConnector]:
    settings = settings_for(emulator, page_size=4, max_retry_wait=0.5, attempts=4)
    return lambda: DynamicsConnector(settings)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dynamics-engine')}/pssync.db"
    store = GoldenStore(open_engine(url))
    with DynamicsEmulator() as emulator:
        emulator.seed(environment())
        runtime = Runtime(
            store=store,
            exceptions=ExceptionStore(store.engine),
            connectors={"dynamics": factory(emulator)},
            translators={"dynamics": Translator(load_spec(MAPPING))},
            roles={"dynamics": "psa"},
            delivery=POLICY,
        )
        start(runtime, url, polling_interval=0.05)
        try:
            yield Env(store, runtime, emulator)
        finally:
            dbos_app.shutdown()
            set_runtime(None)


def capture(env: Env, obj: str, **options: Any) -> Any:
    return Poller(env.runtime, "dynamics", obj, sleep=lambda _: None, **options).run()


def test_the_environment_lands_with_canonical_references(env: Env) -> None:
    for obj in CATALOG.write_order():  # referenced objects first
        capture(env, obj)
    assert len(list(env.store.iter_records("Account"))) == 9
    account = guid("account-0")
    assert env.payload("Account", "accounts", account)["name"] == "Customer 0 Ltd"
    opportunity = env.payload("Opportunity", "opportunities", guid("opportunity-1"))
    assert opportunity["account_id"] == account and opportunity["stage"] == "propose"
    assert opportunity["amount"] == {"amount": "240000.00", "currency": "USD"}
    project = env.payload("Project", "msdyn_projects", guid("project-1"))
    assert project["account_id"] == account and project["planned_start"] == "2026-07-01"
    assert project["opportunity_id"] == guid("opportunity-1")
    task = env.payload("WbsElement", "msdyn_projecttasks", guid("task-1"))
    assert task["project_id"] == guid("project-1") and task["parent_id"] == guid("task-root")
    assert Decimal(task["planned_hours"]) == 40 and task["code"] == "1.1"
    booking = env.payload("Assignment", "msdyn_resourceassignments", guid("assignment-2"))
    assert booking["booking_type"] == "soft" and booking["project_id"] == guid("project-1")
    for obj, row_id in (("accounts", account), ("msdyn_projects", guid("project-1"))):
        env.canonical_id(obj, row_id)  # every reference resolves through the xref map
    assert wait_idle(30)


def test_a_change_comes_through_once_under_service_protection_limits(env: Env) -> None:
    capture(env, "accounts")
    creds = env.emulator.credentials()
    token = httpx.post(
        creds["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
    ).json()["access_token"]
    renamed = httpx.patch(
        f"{creds['api_base']}/accounts({guid('account-3')})",
        json={"name": "Customer 3 Holdings"},
        headers={"Authorization": f"Bearer {token}", "If-Match": "*"},
    )
    assert renamed.status_code == 204
    admin = f"{env.emulator.base_url}/__admin/faults"
    faults = {"error_rate": 0.5, "error_statuses": [429, 503], "retry_after": 0, "seed": 1}
    httpx.put(admin, json=faults).raise_for_status()
    httpx.delete(f"{env.emulator.base_url}/__admin/requests").raise_for_status()
    try:
        report = capture(env, "accounts", max_retries=8)
    finally:
        httpx.put(admin, json={"error_rate": 0.0}).raise_for_status()
    calls = httpx.get(f"{env.emulator.base_url}/__admin/requests").json()
    assert report.records == 1
    assert calls["GET /api/data/v9.2/accounts"] > 1  # the one page needed was refused first
    assert env.payload("Account", "accounts", guid("account-3"))["name"] == "Customer 3 Holdings"
    assert capture(env, "accounts").records == 0
    assert wait_idle(30)


def test_a_row_deleted_in_dataverse_leaves_the_golden_store(env: Env) -> None:
    """Change tracking reports the deletion (``$deletedEntity``) with the changes: the next
    capture deletes the canonical record, no reconciliation needed."""
    capture(env, "accounts")
    doomed = env.canonical_id("accounts", guid("account-5"))
    assert env.store.get("Account", doomed) is not None
    creds = env.emulator.credentials()
    token = httpx.post(
        creds["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
    ).json()["access_token"]
    gone = httpx.delete(
        f"{creds['api_base']}/accounts({guid('account-5')})",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert gone.status_code == 204
    report = capture(env, "accounts")
    assert report.records == 1 and report.counts, report
    assert wait_idle(30)
    found = env.store.get("Account", doomed)
    assert found is None or found.deleted, (found, report)
    assert capture(env, "accounts").records == 0
    assert wait_idle(30)
