"""Shared engine fixtures: real SAP S/4HANA emulators, real connectors, one DBOS per module.

DBOS is a process-wide singleton and launching it costs about a second, so each test module
launches it once (`engine_env`, module scope) on a fresh golden store; tests in a module keep
apart by using their own record names. Two SAP emulators stand in for a source and a target:
``crm`` (role crm, read by change capture) and ``erp`` (role erp, written by delivery).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.engine import dbos_app
from pssync.engine.runtime import DeliveryPolicy, Runtime, set_runtime
from pssync.engine.worker import start
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

BP = "A_BusinessPartner"
SAP_MAPPING = MappingSpec.model_validate(
    {
        "system": "sap_s4",
        "objects": {
            BP: {
                "entity": "Account",
                "id_field": "BusinessPartner",
                "external_id_field": "BusinessPartnerIDByExtSystem",
                "fields": {
                    "name": "OrganizationBPName1",
                    "legal_name": "OrganizationBPName2",
                },
            }
        },
    }
)
FAST = DeliveryPolicy(
    max_attempts=10, base_delay=0.02, max_delay=0.5, breaker_threshold=50, breaker_cooldown=0.2
)
_numbers = itertools.count(1)


def connector_factory(emulator: SapS4Emulator, page_size: int = 50) -> Any:
    creds = emulator.credentials()

    def build() -> SapS4Connector:
        return SapS4Connector(
            SapS4Settings(
                base_url=emulator.base_url,
                username=creds["username"],
                password=creds["password"],
                sap_client=creds["sap_client"],
                page_size=page_size,
                timeout=5.0,
            )
        )

    return build


def faults(emulator: SapS4Emulator, **values: Any) -> None:
    response = httpx.put(f"{emulator.base_url}/__admin/faults", json=values, timeout=5)
    response.raise_for_status()


def bp_row(name: str, legal: str | None = None) -> dict[str, Any]:
    """A new organisation business partner as a CRM user would create it."""
    number = next(_numbers)
    return {
        "BusinessPartner": f"{number:010d}",
        "BusinessPartnerCategory": "2",
        "OrganizationBPName1": name,
        "OrganizationBPName2": legal or f"{name} Ltd",
    }


def edit(emulator: SapS4Emulator, rows: list[dict[str, Any]]) -> None:
    """A user's edit in a system: upsert business partners by their number. A user who picks
    the number creates in a grouping with external numbering (BP03 in the sandbox's
    customizing); SAP refuses a chosen number in an internally numbered grouping."""
    rows = [{"BusinessPartnerGrouping": "BP03", **row} for row in rows]
    connector = connector_factory(emulator)()
    try:
        results = connector.upsert(BP, "BusinessPartner", rows)
        assert all(r.error is None for r in results), results
    finally:
        connector.close()


@dataclass
class EngineEnv:
    store: GoldenStore
    exceptions: ExceptionStore
    runtime: Runtime
    crm: SapS4Emulator
    erp: SapS4Emulator
    url: str

    def erp_partners(self) -> dict[str, dict[str, Any]]:
        """The ERP's business partners by pssync's external ID."""
        connector = connector_factory(self.erp)()
        try:
            found: dict[str, dict[str, Any]] = {}
            for page in connector.snapshot(BP):
                for record in page.records:
                    ext = record.data.get("BusinessPartnerIDByExtSystem")
                    if ext:
                        assert ext not in found, f"duplicate external ID {ext} in the ERP"
                        found[str(ext)] = record.data
            return found
        finally:
            connector.close()

    def crm_edit(self, rows: list[dict[str, Any]]) -> None:
        """Edit CRM business partners through the OData API (upsert keyed by number)."""
        edit(self.crm, rows)


@pytest.fixture(scope="module")
def engine_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineEnv]:
    base: Path = tmp_path_factory.mktemp("engine")
    url = f"sqlite:///{base}/pssync.db"
    store = GoldenStore(open_engine(url))
    exceptions = ExceptionStore(store.engine)
    with SapS4Emulator(state_dir=base / "crm") as crm, SapS4Emulator(state_dir=base / "erp") as erp:
        runtime = Runtime(
            store=store,
            exceptions=exceptions,
            connectors={"crm": connector_factory(crm), "erp": connector_factory(erp)},
            translators={"crm": Translator(SAP_MAPPING), "erp": Translator(SAP_MAPPING)},
            roles={"crm": "crm", "erp": "erp"},
            delivery=FAST,
        )
        start(runtime, url, polling_interval=0.05)
        try:
            yield EngineEnv(store, exceptions, runtime, crm, erp, url)
        finally:
            dbos_app.shutdown()
            set_runtime(None)


def requests_made(emulator: SapS4Emulator) -> dict[str, int]:
    response = httpx.get(f"{emulator.base_url}/__admin/requests", timeout=5)
    response.raise_for_status()
    return dict(response.json())


def writes_made(emulator: SapS4Emulator) -> int:
    """POST (create) and MERGE/PATCH/PUT (update) calls the emulator served; the SAP connector
    sends an upsert's writes as one ``$batch`` POST, which counts as one call."""
    return sum(
        n
        for key, n in requests_made(emulator).items()
        if key.split(" ")[0] in ("POST", "MERGE", "PATCH", "PUT")
    )
