"""The firm's NetSuite books through the product path: emulator -> connector -> engine -> golden
store, compared with the generator's truth record by record.

The NetSuite emulator is seeded with the small firm's NetSuite view; the engine (DBOS, the
governance stages, the default mapping) captures every object once. Then each contract line,
billing schedule, billing milestone and payment that NetSuite holds must be in the golden store
with the truth's amounts (Decimal with currency), dates and references (resolved to the golden
records of the NetSuite project, customer, sales order and invoice).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from product_path import Synced, money, synced_erp
from test_netsuite import MAPPING, settings_for

from pssync.connectors.netsuite import NetSuiteConnector
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.netsuite import NetSuiteEmulator

pytestmark = pytest.mark.integration

OBJECTS = (
    *("customer", "job", "projecttask", "salesorder", "billingschedule"),
    *("projecttask_milestone", "invoice", "customerpayment"),
    *("journalentry_cost", "journalentry_revenue"),
)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    base: Path = tmp_path_factory.mktemp("ns-path")
    firm = generate_firm("small")
    with NetSuiteEmulator(state_dir=base / "ns") as emu:
        emu.seed(copy.deepcopy(firm.views["netsuite"]))
        settings = settings_for(emu)
        connector = lambda: NetSuiteConnector(settings)  # noqa: E731
        with synced_erp(base, firm, "netsuite", connector, MAPPING, OBJECTS) as synced:
            yield synced


def test_every_record_is_applied_without_rejection(synced: Synced) -> None:
    for obj, counts in synced.counts.items():
        assert set(counts) <= {"applied", "unchanged"}, (obj, counts)


def test_contract_lines_match_the_truth(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for c in firm.books.contracts:
        ns_id = firm.xrefs.get(c.id, "netsuite:salesorder")
        if ns_id is None:
            continue
        held += 1
        truth = synced.truth[("ContractLine", c.id)]
        _, got = synced.golden_of("salesorder", ns_id)
        assert money(got["amount"]) == money(truth["amount"])
        for name in ("name", "revenue_method", "start_date", "end_date", "billing_rule"):
            assert got[name] == truth[name], name
        for name in ("service_line_id", "legal_entity_id", "status"):
            assert got[name] == truth[name], name
        assert got["project_id"] == synced.golden_id("job", truth["project_id"])
        assert got["account_id"] == synced.golden_id("customer", truth["account_id"])
    us = [c for c in firm.books.contracts if firm.projects[c.project].legal_entity == "US01"]
    assert held == len(us) > 0
    assert synced.store.counts()["ContractLine"] == held


def test_billing_schedules_match_the_truth(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for c in firm.books.contracts:
        key = f"bs-{c.id[3:]}"
        ns_id = firm.xrefs.get(key, "netsuite:billingschedule")
        if ns_id is None or ("BillingSchedule", key) not in synced.truth:
            continue
        held += 1
        truth = synced.truth[("BillingSchedule", key)]
        _, got = synced.golden_of("billingschedule", ns_id)
        assert money(got["amount_per_period"]) == money(truth["amount_per_period"])
        for name in ("frequency", "start_date", "end_date"):
            assert got[name] == truth[name], name
        assert got["contract_line_id"] == synced.golden_id("salesorder", c.id)
    assert held > 0 and synced.store.counts()["BillingSchedule"] == held


def test_billing_milestones_match_the_truth(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for m in firm.books.milestones:
        ns_id = firm.xrefs.get(m.id, "netsuite:projecttask")
        if ns_id is None:
            continue
        held += 1
        truth = synced.truth[("BillingMilestone", m.id)]
        _, got = synced.golden_of("projecttask_milestone", ns_id)
        assert money(got["amount"]) == money(truth["amount"])
        for name in ("name", "due_date", "status"):
            assert got[name] == truth[name], name
        contract = firm.books.contracts[m.contract]
        assert got["contract_line_id"] == synced.golden_id("salesorder", contract.id)
    assert held > 0 and synced.store.counts()["BillingMilestone"] == held


def test_payments_match_the_truth(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for pay in firm.books.payments:
        ns_id = firm.xrefs.get(pay.id, "netsuite:customerpayment")
        if ns_id is None:
            continue
        held += 1
        truth = synced.truth[("Payment", pay.id)]
        _, got = synced.golden_of("customerpayment", ns_id)
        assert money(got["amount"]) == money(truth["amount"])
        assert got["received_date"] == truth["received_date"]
        assert got["invoice_id"] == synced.golden_id("invoice", truth["invoice_id"])
        assert got["account_id"] == synced.golden_id("customer", truth["account_id"])
    assert held > 0 and synced.store.counts()["Payment"] == held
