"""SAP S/4HANA as the source of the German entity's projects and actuals, on the product path:
the SAP emulator (seeded with the firm's SAP view) -> the SAP connector -> the engine with
governance -> the golden store, compared record by record with the firm's truth.

The golden store starts without the DE01 projects and everything that names them (their
postings among them); capture must bring the projects, then the revenue and cost postings read
from SAP's journal (API_JOURNALENTRYITEMBASIC_SRV), with the project references resolved.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from pssync.sandbox.firm.ids import stable_uuid

from .conftest import FlowEnv, _truth, firm, make_env

pytestmark = pytest.mark.integration
DE01 = [p for p in firm().projects if p.legal_entity == "DE01"]
KINDS = {"revenue": "RevenueEvent", "cost": "CostActual"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowEnv]:
    yield from make_env(
        tmp_path_factory.mktemp("sap"),
        erps=("sap_s4",),
        deals=set(),
        without=frozenset(p.id for p in DE01),
    )


def test_revenue_and_cost_postings_land_in_the_golden_store(env: FlowEnv) -> None:
    postings = [x for x in firm().postings if firm().projects[x.project].legal_entity == "DE01"]
    assert postings and {x.kind for x in postings} == set(KINDS)
    for post in postings:  # the store starts without them
        assert env.store.get(KINDS[post.kind], post.id) is None
    env.poll("sap_s4", "A_BusinessPartner", "A_EnterpriseProject")
    seen = env.poll("sap_s4", "A_JournalEntryItemBasic_revenue", "A_JournalEntryItemBasic_cost")
    assert seen.get("applied", 0) == len(postings), seen

    for post in postings:
        obj = f"A_JournalEntryItemBasic_{post.kind}"
        item_id = firm().xrefs.get(post.id, f"sap_s4:{obj}")
        found = env.store.resolve_xref("sap_s4", obj, item_id)
        assert found is not None and found[0] == KINDS[post.kind], (post.id, found)
        golden = env.store.get(*found)
        assert golden is not None
        truth = _truth()[(KINDS[post.kind], post.id)]
        date_field = "recognized_date" if post.kind == "revenue" else "posting_date"
        assert golden.payload[date_field] == truth[date_field]
        assert Decimal(str(golden.payload["amount"]["amount"])) == Decimal(
            str(truth["amount"]["amount"])
        )
        assert golden.payload["amount"]["currency"] == truth["amount"]["currency"]
        assert golden.payload["legal_entity_id"] == truth["legal_entity_id"]
        # The project reference resolved to the project captured from SAP (by its GUID).
        project = env.store.resolve_xref(
            "sap_s4", "A_EnterpriseProject", stable_uuid("project", truth["project_id"])
        )
        assert project is not None and golden.payload["project_id"] == project[1]
    journal = {f"A_JournalEntryItemBasic_{k}" for k in KINDS}
    raised = [e for e in env.exceptions.find(states=["open"]) if e.object in journal]
    assert not raised, [(e.category, e.message) for e in raised[:3]]


def test_customer_payments_land_with_their_invoice_and_account(env: FlowEnv) -> None:
    obj = "A_OperationalAcctgDocItemCube_payment"
    payments = [
        p
        for p in firm().books.payments
        if firm().projects[firm().books.invoices[p.invoice].project].legal_entity == "DE01"
    ]
    assert payments
    env.poll("sap_s4", "A_BusinessPartner", "A_EnterpriseProject", "A_BillingDocument")
    seen = env.poll("sap_s4", obj)
    assert seen.get("applied", 0) == len(payments), seen
    for pay in payments:
        found = env.store.resolve_xref("sap_s4", obj, firm().xrefs.get(pay.id, f"sap_s4:{obj}"))
        assert found is not None and found[0] == "Payment", (pay.id, found)
        golden = env.store.get(*found)
        assert golden is not None
        truth = _truth()[("Payment", pay.id)]
        assert golden.payload["received_date"] == truth["received_date"]
        assert golden.payload["account_id"] == truth["account_id"]
        assert Decimal(str(golden.payload["amount"]["amount"])) == Decimal(
            str(truth["amount"]["amount"])
        )
        invoice = firm().books.invoices[pay.invoice]
        number = firm().xrefs.get(invoice.id, "sap_s4:A_BillingDocument")
        captured = env.store.resolve_xref("sap_s4", "A_BillingDocument", number)
        assert captured is not None and golden.payload["invoice_id"] == captured[1]
    raised = [e for e in env.exceptions.find(states=["open"]) if e.object == obj]
    assert not raised, [(e.category, e.message) for e in raised[:3]]
