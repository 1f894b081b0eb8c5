"""A full sync under the issue's fault mix converges to the clean run's result.

Two runs of the same sync — CRM business partners captured, routed by the built-in
``account_to_erp`` route and delivered to the ERP — each on a fresh golden store, fresh DBOS
database and fresh SAP emulators seeded with the same rows: one clean, one with 20% injected
429/500/503 answers and 5% timeouts on both emulators (reads and writes alike). The injected
timeout sleeps 3 s (the issue's) and the faulty run's client timeout is 1 s, so the client
really times out (a ``ReadTimeout``): a read retries it inside its request (the retry
history is what the test sees), a write reports it as retriable and the engine retries it.
The clean run has a generous client timeout: it must see no failure at all, and on a loaded
machine a short one would time out with no fault injected.

The faulty run must end where the clean one did: the same golden records with the same content
and one version each, the same partners in the ERP (by pssync's external ID, with the same
values), none twice, none missing, and no delivery exception left open. Records dead-lettered
after the retry budget are allowed only if replaying them once the faults stop converges.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from dbos import DBOS

from pssync.connectors.base import Connector, Page, UpsertResult
from pssync.connectors.errors import RetriableError
from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.runtime import DeliveryPolicy, Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ACTIVE, ExceptionStore
from pssync.governance.replay import ReplayContext, replay
from pssync.mapping.translator import Translator
from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

from .conftest import BP, SAP_MAPPING

pytestmark = pytest.mark.integration

RECORDS = 100
PAGE = 20  # CRM read page: one ingest workflow and one delivery batch per 20 partners
FAULTY_CLIENT_TIMEOUT = 1.0  # seconds; shorter than the injected sleep: the client times out
CLEAN_CLIENT_TIMEOUT = 30.0
ISSUE_FAULTS = {
    "error_rate": 0.20,
    "error_statuses": [429, 500, 503],
    "retry_after": 0,
    "timeout_rate": 0.05,
    "timeout_seconds": 3.0,
    # SAP writes go in one $batch per delivery: few requests, so a sequence that faults early.
    "seed": 15,
}
NO_FAULTS = {"error_rate": 0.0, "timeout_rate": 0.0}
POLICY = DeliveryPolicy(
    max_attempts=10, base_delay=0.02, max_delay=0.3, breaker_threshold=50, breaker_cooldown=0.2
)


def set_faults(emulator: Emulator, values: dict[str, Any]) -> None:
    httpx.put(f"{emulator.base_url}/__admin/faults", json=values, timeout=5).raise_for_status()


@dataclass
class Observed:
    """Retriable failures the connectors saw, by kind (client timeouts vs. HTTP errors)."""

    errors: list[str] = field(default_factory=list)

    def timeouts(self) -> int:
        return sum("Timeout" in e for e in self.errors)


def observing_factory(
    emulator: Emulator, seen: Observed, timeout: float
) -> Callable[[], SapS4Connector]:
    """Connectors with this client timeout that note every retriable failure they raise."""
    creds = emulator.credentials()
    settings = SapS4Settings(
        base_url=emulator.base_url,
        username=creds["username"],
        password=creds["password"],
        sap_client=creds["sap_client"],
        page_size=PAGE,
        timeout=timeout,
    )

    class Observing(SapS4Connector):
        def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
            try:
                yield from super().changes(obj, cursor)
            except RetriableError as exc:
                seen.errors.append(exc.message)
                raise

        def upsert(
            self, obj: str, external_id_field: str, records: list[dict[str, Any]]
        ) -> list[UpsertResult]:
            try:
                return super().upsert(obj, external_id_field, records)
            except RetriableError as exc:
                seen.errors.append(exc.message)
                raise

    def note_retries(response: Any, *args: Any, **kwargs: Any) -> None:
        """The failures a read retried inside its request (urllib3's retry history)."""
        retries = getattr(response.raw, "retries", None)
        for tried in getattr(retries, "history", ()):
            seen.errors.append(repr(tried.error) if tried.error else f"HTTP {tried.status}")

    def connector() -> SapS4Connector:
        made = Observing(settings)
        made.session.hooks["response"].append(note_retries)
        return made

    return connector


def partner_rows() -> list[dict[str, Any]]:
    return [
        {
            "BusinessPartner": f"{7_700_000 + i:010d}",
            "BusinessPartnerCategory": "2",
            "OrganizationBPName1": f"Converge {i:03d}",
            "OrganizationBPName2": f"Converge {i:03d} Holding Ltd",
        }
        for i in range(RECORDS)
    ]


@dataclass
class RunResult:
    golden: dict[str, dict[str, Any]]  # record ID -> payload (ERP's own IDs left out)
    versions: dict[str, int]  # record ID -> versions recorded
    erp: dict[str, dict[str, Any]]  # external ID -> the ERP partner's compared fields
    captured: dict[str, int]
    dead_lettered: int
    replayed: int
    open_exceptions: int
    attempts: int
    batches: int
    observed: Observed


def erp_partners(factory: Callable[[], Connector]) -> dict[str, dict[str, Any]]:
    connector = factory()
    try:
        found: dict[str, dict[str, Any]] = {}
        for page in connector.snapshot(BP):
            for record in page.records:
                ext = record.data.get("BusinessPartnerIDByExtSystem")
                assert ext, f"a partner without pssync's external ID: {record.data}"
                assert ext not in found, f"external ID {ext} twice in the ERP"
                found[str(ext)] = {
                    k: record.data.get(k)
                    for k in (
                        "OrganizationBPName1",
                        "OrganizationBPName2",
                        "BusinessPartnerCategory",
                    )
                }
        return found
    finally:
        connector.close()


def comparable(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without the ERP's own partner numbers (assigned in creation order, which
    differs between runs); which systems the record is linked to is kept."""
    out = {k: v for k, v in payload.items() if k != "xrefs"}
    xrefs = payload.get("xrefs") or {}
    out["xrefs"] = {k: (v if k.startswith("crm:") else "<erp id>") for k, v in xrefs.items()}
    return out


def run_sync(base: Path, faults: dict[str, Any], client_timeout: float) -> RunResult:
    """One full sync on fresh state; faults on both emulators during capture and delivery."""
    base.mkdir(parents=True)
    url = f"sqlite:///{base}/pssync.db"
    store = GoldenStore(open_engine(url))
    exceptions = ExceptionStore(store.engine)
    seen = Observed()
    with (
        SapS4Emulator(state_dir=base / "crm", page_size=PAGE) as crm,
        SapS4Emulator(state_dir=base / "erp", page_size=PAGE) as erp,
    ):
        crm.seed({BP: partner_rows()})
        runtime = Runtime(
            store=store,
            exceptions=exceptions,
            connectors={
                "crm": observing_factory(crm, seen, client_timeout),
                "erp": observing_factory(erp, seen, client_timeout),
            },
            translators={"crm": Translator(SAP_MAPPING), "erp": Translator(SAP_MAPPING)},
            roles={"crm": "crm", "erp": "erp"},
            delivery=POLICY,
        )
        start(runtime, url, polling_interval=0.05)
        try:
            for emulator in (crm, erp):
                set_faults(emulator, faults)
            report = Poller(runtime, "crm", BP, max_retries=20).run()
            assert wait_idle(60), "deliveries still running after 60 s"
            for emulator in (crm, erp):
                set_faults(emulator, NO_FAULTS)
            batches = [
                w.output for w in DBOS.list_workflows() if w.name == "deliver_batch" and w.output
            ]
            dead = exceptions.find(states=[s.value for s in ACTIVE])
            ctx = ReplayContext(store, exceptions)
            replayed = [replay(ctx, exc) for exc in dead]
            still_open = exceptions.find(states=[s.value for s in ACTIVE])
            golden = {v.record_id: comparable(v.payload) for v in store.iter_records("Account")}
            versions = {rid: len(store.history("Account", rid)) for rid in golden}
            erp_now = erp_partners(runtime.connectors["erp"])
        finally:
            dbos_app.shutdown()
            set_runtime(None)
    return RunResult(
        golden=golden,
        versions=versions,
        erp=erp_now,
        captured=report.counts,
        dead_lettered=sum(b["dead_lettered"] for b in batches),
        replayed=sum(r.state == "resolved" for r in replayed),
        open_exceptions=len(still_open),
        attempts=sum(b["attempts"] for b in batches),
        batches=len(batches),
        observed=seen,
    )


def test_a_full_sync_under_20pct_errors_and_5pct_timeouts_converges_to_the_clean_run(
    tmp_path: Path,
) -> None:
    clean = run_sync(tmp_path / "clean", NO_FAULTS, CLEAN_CLIENT_TIMEOUT)
    assert clean.captured == {"applied": RECORDS}
    assert len(clean.golden) == RECORDS and len(clean.erp) == RECORDS
    assert clean.dead_lettered == 0 and clean.open_exceptions == 0
    assert not clean.observed.errors

    faulty = run_sync(tmp_path / "faulty", ISSUE_FAULTS, FAULTY_CLIENT_TIMEOUT)
    # The faults really happened, timeouts included, and cost retries (in the request or by
    # the engine: which of the two depends on which calls the faults hit).
    assert faulty.observed.timeouts() >= 1, faulty.observed.errors
    assert len(faulty.observed.errors) > faulty.observed.timeouts()

    # Nothing lost, nothing twice, nothing left open; a dead letter only if replay fixed it.
    assert faulty.captured == {"applied": RECORDS}
    assert faulty.open_exceptions == 0
    assert faulty.replayed == faulty.dead_lettered
    # The same end state as the clean run.
    assert faulty.golden == clean.golden
    assert faulty.versions == clean.versions
    assert set(faulty.versions.values()) == {1}
    assert faulty.erp == clean.erp
    names = sorted(p["OrganizationBPName1"] for p in faulty.erp.values())
    assert names == [r["OrganizationBPName1"] for r in partner_rows()]
    print(
        json.dumps(
            {
                "errors_seen": len(faulty.observed.errors),
                "timeouts_seen": faulty.observed.timeouts(),
                "delivery_attempts": faulty.attempts,
                "batches": faulty.batches,
                "dead_lettered": faulty.dead_lettered,
                "replayed": faulty.replayed,
            }
        )
    )
