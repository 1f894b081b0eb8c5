"""The file-drop ERP's own books through the product path: its export files -> connector ->
engine -> golden store, compared with the generator's truth record by record.

The emulator is seeded with the small firm's file-drop view (the APAC entity), whose exports
carry contracts, instalment plans, milestones, payments and the general ledger journal besides
customers, projects and invoices. Each record the ERP holds must reach the golden store with the
truth's amounts (Decimal with currency), dates and references.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from product_path import Synced, money, synced_erp

from pssync.connectors.filedrop import FileDropConnector, FileDropSettings
from pssync.sandbox.filedrop import FileDropEmulator
from pssync.sandbox.firm import generate_firm

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/filedrop/mapping.yaml"
OBJECTS = (
    *("customers", "projects", "invoices", "contracts"),
    *("billing_schedules", "milestones", "payments", "journal_revenue", "journal_cost"),
)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    base: Path = tmp_path_factory.mktemp("fd-path")
    firm = generate_firm("small")
    with FileDropEmulator(state_dir=base / "fd", poll_interval=0.05) as emu:
        emu.seed(copy.deepcopy(firm.views["filedrop"]))
        creds = emu.credentials()
        folders = ("inbound_dir", "ack_dir", "reject_dir", "outbound_dir")
        settings = FileDropSettings.model_validate({k: creds[k] for k in folders})
        connector = lambda: FileDropConnector(settings)  # noqa: E731
        with synced_erp(base, firm, "filedrop", connector, MAPPING, OBJECTS) as synced:
            yield synced


def valid_day(synced: Synced, entity: str, record_id: str) -> str:
    """The day the golden record is valid from (a dated fact: its business date)."""
    version = synced.store.get(entity, record_id)
    assert version is not None
    return version.valid_from.date().isoformat()


def held(synced: Synced, obj: str, ids: list[str]) -> list[str]:
    return [i for i in ids if synced.firm.xrefs.get(i, f"filedrop:{obj}")]


def test_every_record_is_applied_without_rejection(synced: Synced) -> None:
    for obj, counts in synced.counts.items():
        assert set(counts) <= {"applied", "unchanged"}, (obj, counts)


def test_contract_lines_match_the_truth(synced: Synced) -> None:
    ids = held(synced, "contracts", [c.id for c in synced.firm.books.contracts])
    assert ids
    for cid in ids:
        truth = synced.truth[("ContractLine", cid)]
        _, got = synced.golden("contracts", cid)
        assert money(got["amount"]) == money(truth["amount"])
        for name in ("name", "revenue_method", "billing_rule", "start_date", "end_date"):
            assert got[name] == truth[name], name
        for name in ("service_line_id", "legal_entity_id", "status"):
            assert got[name] == truth[name], name
        assert got["project_id"] == synced.golden("projects", truth["project_id"])[0]
        assert got["account_id"] == synced.golden("customers", truth["account_id"])[0]
    assert synced.store.counts()["ContractLine"] == len(ids)


def test_billing_schedules_match_the_truth(synced: Synced) -> None:
    keys = [f"bs-{c.id[3:]}" for c in synced.firm.books.contracts if c.schedule]
    ids = held(synced, "billing_schedules", keys)
    assert ids
    for key in ids:
        truth = synced.truth[("BillingSchedule", key)]
        _, got = synced.golden("billing_schedules", key)
        assert money(got["amount_per_period"]) == money(truth["amount_per_period"])
        for name in ("frequency", "start_date", "end_date"):
            assert got[name] == truth[name], name
        contract = synced.golden("contracts", truth["contract_line_id"])[0]
        assert got["contract_line_id"] == contract
    assert synced.store.counts()["BillingSchedule"] == len(ids)


def test_billing_milestones_match_the_truth(synced: Synced) -> None:
    ids = held(synced, "milestones", [m.id for m in synced.firm.books.milestones])
    assert ids
    for mid in ids:
        truth = synced.truth[("BillingMilestone", mid)]
        _, got = synced.golden("milestones", mid)
        assert money(got["amount"]) == money(truth["amount"])
        for name in ("name", "due_date", "status"):
            assert got[name] == truth[name], name
        assert got["contract_line_id"] == synced.golden("contracts", truth["contract_line_id"])[0]
        if "invoice_id" in truth:
            assert got["invoice_id"] == synced.golden("invoices", truth["invoice_id"])[0]
    assert synced.store.counts()["BillingMilestone"] == len(ids)


def test_payments_match_the_truth(synced: Synced) -> None:
    ids = held(synced, "payments", [p.id for p in synced.firm.books.payments])
    assert ids
    for pid in ids:
        truth = synced.truth[("Payment", pid)]
        _, got = synced.golden("payments", pid)
        assert money(got["amount"]) == money(truth["amount"])
        assert got["received_date"] == truth["received_date"]
        assert valid_day(synced, "Payment", got["id"]) == truth["received_date"]
        assert got["invoice_id"] == synced.golden("invoices", truth["invoice_id"])[0]
        assert got["account_id"] == synced.golden("customers", truth["account_id"])[0]
    assert synced.store.counts()["Payment"] == len(ids)


def test_invoices_carry_the_erps_payment_state(synced: Synced) -> None:
    ids = held(synced, "invoices", [i.id for i in synced.firm.books.invoices])
    assert ids
    states = set()
    for iid in ids:
        truth = synced.truth[("Invoice", iid)]
        _, got = synced.golden("invoices", iid)
        assert got["status"] == truth["status"], iid
        assert got["project_id"] == synced.golden("projects", truth["project_id"])[0]
        states.add(got["status"])
    assert {"paid", "open"} <= states  # the export is not just the default


def test_a_paid_invoice_was_open_from_its_date_until_paid(synced: Synced) -> None:
    """Valid time from the source: the first sync writes an invoice paid since its issue as
    open from its date, then paid from the day of its last payment (the export's paid_date)."""
    firm, seen = synced.firm, 0
    for iid in held(synced, "invoices", [i.id for i in firm.books.invoices]):
        truth = synced.truth[("Invoice", iid)]
        gid, got = synced.golden("invoices", iid)
        if got["status"] == "open":
            assert valid_day(synced, "Invoice", gid) == truth["issue_date"]
            continue
        seen += 1
        states = [json.loads(v.payload_json) for v in synced.store.history("Invoice", gid)]
        days = [v.valid_from.date().isoformat() for v in synced.store.history("Invoice", gid)]
        assert [s["status"] for s in states] == ["open", got["status"]], iid
        inv = next(i for i in firm.books.invoices if i.id == iid)
        last = max(p.received for p in firm.books.payments if p.invoice == inv.idx)
        assert days == [truth["issue_date"], last.isoformat()], iid
    assert seen > 0


@pytest.mark.parametrize(
    ("obj", "entity", "date"),
    [
        ("journal_revenue", "RevenueEvent", "recognized_date"),
        ("journal_cost", "CostActual", "posting_date"),
    ],
)
def test_journal_lines_are_the_projects_actuals(
    synced: Synced, obj: str, entity: str, date: str
) -> None:
    """Revenue and cost postings come from the journal export's P&L lines, amounts positive
    as finance reports them, dated at posting (their valid time too), on their project."""
    kind = obj.removeprefix("journal_")
    ids = held(synced, obj, [p.id for p in synced.firm.postings if p.kind == kind])
    assert ids
    cents = 0
    for pid in ids:
        truth = synced.truth[(entity, pid)]
        _, got = synced.golden(obj, pid)
        assert money(got["amount"]) == money(truth["amount"]) and money(got["amount"])[0] > 0
        assert got[date] == truth[date]
        assert got["project_id"] == synced.golden("projects", truth["project_id"])[0]
        cents += int(money(got["amount"])[0] * 100)
        assert valid_day(synced, entity, got["id"]) == truth[date]  # valid from the posting
    expected = sum(p.amount_cents for p in synced.firm.postings if p.id in set(ids))
    assert cents == expected  # the totals reconcile to the cent
    assert synced.store.counts()[entity] == len(ids)


def test_the_erps_own_books_cannot_be_written(tmp_path: Path) -> None:
    with FileDropEmulator(state_dir=tmp_path) as emu:
        creds = emu.credentials()
        folders = ("inbound_dir", "ack_dir", "reject_dir", "outbound_dir")
        conn = FileDropConnector(FileDropSettings.model_validate({k: creds[k] for k in folders}))
        (result,) = conn.upsert("payments", "external_id", [{"external_id": "RC1"}])
        assert result.error is not None and "exports only" in str(result.error)
