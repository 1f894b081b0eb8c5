"""SAP sales orders and their billing plans through the product path: emulator -> connector ->
engine -> golden store, compared with the generator's truth record by record.

The SAP emulator is seeded with the SAP view of a small firm (seed 1: the German entity holds a
fixed-fee, a milestone and time-and-materials contracts); the engine captures business partners,
projects and the contract objects once. Each contract line (A_SalesOrder), periodic billing
plan (A_SalesOrderBillingPlan) and milestone date (A_SalesOrderBillingPlanItem) SAP holds must be
in the golden store as the ContractLine, BillingSchedule and BillingMilestone the truth has
(amounts as Decimal with currency, dates, references resolved to the golden records), the
shapes the NetSuite connector produces for the US entity. Besides: each project is read with
the CRM deal its sales order was created from, each billing document with its project, each
customer with its terms of payment.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from product_path import Synced, money, synced_erp
from test_sap_s4 import MAPPING, settings_for

from pssync.connectors.sap_s4 import SapS4Connector
from pssync.mapping import Translator, load_spec
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.sap_s4 import SapS4Emulator

pytestmark = pytest.mark.integration

OBJECTS = (
    *("A_BusinessPartner", "A_EnterpriseProject", "A_SalesOrder"),
    *("A_SalesOrderBillingPlan", "A_SalesOrderBillingPlanItem", "A_BillingDocument"),
)


class SapSynced(Synced):
    def source_id(self, obj: str, canonical_id: str) -> str | None:
        if obj == "A_EnterpriseProject":  # read keyed by its GUID
            found: str = self.firm.view_record("sap_s4", obj, canonical_id)["ProjectUUID"]
            return found
        return super().source_id(obj, canonical_id)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, SapS4Emulator]]:
    firm = generate_firm("small", seed=1)
    with SapS4Emulator(state_dir=tmp_path_factory.mktemp("sap-state")) as emu:
        emu.seed(copy.deepcopy(firm.views["sap_s4"]))
        yield firm, emu


@pytest.fixture(scope="module")
def synced(
    tmp_path_factory: pytest.TempPathFactory, emulator: tuple[Any, SapS4Emulator]
) -> Iterator[Synced]:
    base: Path = tmp_path_factory.mktemp("sap-contracts")
    firm, emu = emulator
    settings = settings_for(emu)
    connector = lambda: SapS4Connector(settings)  # noqa: E731
    with synced_erp(base, firm, "sap_s4", connector, MAPPING, OBJECTS, SapSynced) as synced:
        yield synced


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


def test_projects_are_read_with_the_deal_of_their_sales_order(
    emulator: tuple[Any, SapS4Emulator],
) -> None:
    """The firm's CRM integration creates each sales order from its won deal
    (``ExternalDocumentID``); a project is read with the deal of the order that delivers it,
    which the default mapping hands to governance as the link to the CRM deal."""
    firm, emu = emulator
    conn = SapS4Connector(settings_for(emu))
    rows = [r.data for page in conn.snapshot("A_EnterpriseProject") for r in page.records]
    assert rows
    by_code = {firm.projects[c.project].code: c for c in german(firm)}
    for row in rows:
        project = firm.projects[by_code[row["Project"]].project]
        deal = firm.xrefs.get(firm.opps[project.opp].id, "salesforce:Opportunity")
        assert deal and row["SalesOrderExternalDocumentID"] == deal
    spec = load_spec(MAPPING)
    fields = Translator(spec).to_canonical("A_EnterpriseProject", rows[0])
    assert fields["xrefs"]["crm:Opportunity"] == rows[0]["SalesOrderExternalDocumentID"]


def test_customers_carry_their_terms_of_payment(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for acc in firm.accounts:
        if not firm.xrefs.get(acc.id, "sap_s4:A_BusinessPartner"):
            continue
        held += 1
        _, got = synced.golden("A_BusinessPartner", acc.id)
        assert got["payment_terms"] == acc.payment_terms, acc.id
    assert held > 0


def test_billing_documents_name_their_project_and_due_date(synced: Synced) -> None:
    firm, held = synced.firm, 0
    for inv in firm.books.invoices:
        if not firm.xrefs.get(inv.id, "sap_s4:A_BillingDocument"):
            continue
        held += 1
        truth = synced.truth[("Invoice", inv.id)]
        _, got = synced.golden("A_BillingDocument", inv.id)
        assert money(got["amount"]) == money(truth["amount"])
        assert got["project_id"] == synced.golden("A_EnterpriseProject", truth["project_id"])[0]
        assert got["due_date"] == truth["due_date"]  # the receivable's net due date
    assert held > 0


def test_a_cleared_billing_document_was_open_from_its_date(synced: Synced) -> None:
    """Valid time from the source: the first sync writes a billing document cleared since its
    billing date as open from that date, then as it is now from its last change."""
    firm, seen = synced.firm, 0
    for inv in firm.books.invoices:
        if not firm.xrefs.get(inv.id, "sap_s4:A_BillingDocument"):
            continue
        gid, got = synced.golden("A_BillingDocument", inv.id)
        versions = synced.store.history("Invoice", gid)
        first = json.loads(versions[0].payload_json)
        assert versions[0].valid_from.date() == inv.issue
        if got["status"] == "open":
            assert len(versions) == 1
            continue
        seen += 1
        assert first["status"] == "open" and len(versions) == 2
        assert versions[1].valid_from.date() > inv.issue
    assert seen > 0


def test_projects_carry_the_service_line_of_their_profit_center(synced: Synced) -> None:
    """No deal needed: the profit center a project settles to names its service line."""
    firm, held = synced.firm, 0
    for c in german(firm):
        project = firm.projects[c.project]
        truth = synced.truth[("Project", project.id)]
        _, got = synced.golden("A_EnterpriseProject", project.id)
        assert got["service_line_id"] == truth["service_line_id"], project.id
        held += 1
    assert held > 0
