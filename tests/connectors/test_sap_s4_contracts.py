"""SAP sales orders and their billing plans through the product path: emulator -> connector ->
engine -> golden store, compared with the generator's truth record by record.

The SAP emulator is seeded with the SAP view of a small firm (seed 1: the German entity holds a
fixed-fee, a milestone and time-and-materials contracts); the engine captures business partners,
projects and the contract objects once. Each contract line (A_SalesOrder), periodic billing
plan (A_SalesOrderBillingPlan) and milestone date (A_SalesOrderBillingPlanItem) SAP holds must be
in the golden store as the ContractLine, BillingSchedule and BillingMilestone the truth has
(amounts as Decimal with currency, dates, references resolved to the golden records), the
shapes the NetSuite connector produces for the US entity.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_sap_s4 import MAPPING, settings_for

from pssync.config.settings import default_system_of_record
from pssync.connectors.sap_s4 import SapS4Connector
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.runtime import Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.ownership import OwnershipPolicy
from pssync.mapping import Translator, load_spec
from pssync.runtime.builder import govern
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

pytestmark = pytest.mark.integration

OBJECTS = (
    *("A_BusinessPartner", "A_EnterpriseProject", "A_SalesOrder"),
    *("A_SalesOrderBillingPlan", "A_SalesOrderBillingPlanItem"),
)


@dataclass
class Synced:
    store: GoldenStore
    firm: Any
    truth: dict[tuple[str, str], dict[str, Any]]
    counts: dict[str, dict[str, int]]

    def golden(self, obj: str, canonical_id: str) -> tuple[str, dict[str, Any]]:
        """(golden ID, payload) of what SAP holds as `obj` for the truth's `canonical_id`."""
        sap_id = self.firm.xrefs.get(canonical_id, f"sap_s4:{obj}")
        if obj == "A_EnterpriseProject":  # read keyed by its GUID
            sap_id = self.firm.view_record("sap_s4", obj, canonical_id)["ProjectUUID"]
        assert sap_id is not None, (obj, canonical_id)
        found = self.store.resolve_xref("sap_s4", obj, sap_id)
        assert found is not None, f"sap_s4 {obj} {sap_id} is not in the golden store"
        version = self.store.get(*found)
        assert version is not None
        return found[1], version.payload


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    base: Path = tmp_path_factory.mktemp("sap-contracts")
    firm = generate_firm("small", seed=1)
    truth: dict[tuple[str, str], dict[str, Any]] = {}
    for line in firm.truth_lines():
        fact = json.loads(line)
        truth[(fact["entity_type"], fact["payload"]["id"])] = fact["payload"]  # latest wins
    url = f"sqlite:///{base}/pssync.db"
    store = GoldenStore(open_engine(url))
    with SapS4Emulator(state_dir=base / "sap") as emu:
        emu.seed(copy.deepcopy(firm.views["sap_s4"]))
        settings = settings_for(emu)
        runtime = Runtime(
            store=store,
            exceptions=ExceptionStore(store.engine),
            connectors={"sap_s4": lambda: SapS4Connector(settings)},
            translators={"sap_s4": Translator(load_spec(MAPPING))},
            roles={"sap_s4": "erp"},
            policy=OwnershipPolicy(default_system_of_record()),
        )
        govern(runtime)
        start(runtime, url, polling_interval=0.05)
        try:
            counts = {obj: Poller(runtime, "sap_s4", obj).run().counts for obj in OBJECTS}
            assert wait_idle(60)
            yield Synced(store, firm, truth, counts)
        finally:
            dbos_app.shutdown()
            set_runtime(None)


def money(value: dict[str, str]) -> tuple[Decimal, str]:
    return Decimal(value["amount"]), value["currency"]


def german(firm: Any) -> list[Any]:
    return [c for c in firm.books.contracts if firm.projects[c.project].legal_entity == "DE01"]


def test_every_record_is_applied_without_rejection(synced: Synced) -> None:
    for obj, counts in synced.counts.items():
        assert set(counts) <= {"applied", "unchanged"}, (obj, counts)
        assert counts.get("applied"), (obj, counts)


def test_contract_lines_match_the_truth(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for c in german(firm):
        held += 1
        truth = synced.truth[("ContractLine", c.id)]
        _, got = synced.golden("A_SalesOrder", c.id)
        assert money(got["amount"]) == money(truth["amount"])
        for name in ("revenue_method", "billing_rule", "start_date", "end_date"):
            assert got[name] == truth[name], (c.method, name)
        assert got["legal_entity_id"] == truth["legal_entity_id"] == "le-de01"
        assert got["name"] == truth["name"][:40]  # SAP's item text holds 40 characters
        project = firm.projects[c.project]
        assert got["project_id"] == synced.golden("A_EnterpriseProject", project.id)[0]
        account = firm.accounts[project.account]
        assert got["account_id"] == synced.golden("A_BusinessPartner", account.id)[0]
    assert {c.method for c in german(firm)} >= {"fixed_fee", "milestone", "time_and_materials"}
    assert held > 0 and synced.store.counts()["ContractLine"] == held


def test_billing_schedules_match_the_truth(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for c in german(firm):
        key = f"bs-{c.id[3:]}"
        if ("BillingSchedule", key) not in synced.truth:
            continue
        held += 1
        truth = synced.truth[("BillingSchedule", key)]
        _, got = synced.golden("A_SalesOrderBillingPlan", key)
        assert money(got["amount_per_period"]) == money(truth["amount_per_period"])
        for name in ("frequency", "start_date", "end_date"):
            assert got[name] == truth[name], name
        assert got["contract_line_id"] == synced.golden("A_SalesOrder", c.id)[0]
    assert held > 0 and synced.store.counts()["BillingSchedule"] == held


def test_billing_milestones_match_the_truth(synced: Synced) -> None:
    firm, held = synced.firm, 0
    ours = {c.idx for c in german(firm)}
    for m in firm.books.milestones:
        if m.contract not in ours:
            continue
        held += 1
        truth = synced.truth[("BillingMilestone", m.id)]
        _, got = synced.golden("A_SalesOrderBillingPlanItem", m.id)
        assert money(got["amount"]) == money(truth["amount"])
        for name in ("name", "due_date", "status"):
            assert got[name] == truth[name], name
        contract = firm.books.contracts[m.contract]
        assert got["contract_line_id"] == synced.golden("A_SalesOrder", contract.id)[0]
    assert held > 0 and synced.store.counts()["BillingMilestone"] == held
