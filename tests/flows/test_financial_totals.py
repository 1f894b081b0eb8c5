"""The financial-actuals route's account totals, worked out for every account in one pass over
the golden store, equal the per-account reading they replace (one scan of the store per routed
actual made the initial sync of a large ERP quadratic), on the small firm's whole history."""

from __future__ import annotations

import types
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from pssync.engine.outbound import once, routing_pass
from pssync.engine.runtime import Runtime
from pssync.flows.financial_actuals import OPEN, account_totals
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import import_lines

from .conftest import firm


def reference_totals(store: GoldenStore, account_id: str) -> dict[str, dict[str, Decimal]]:
    """The per-account reading as it was: every actual of the store read for one account."""
    projects = {
        v.record_id
        for v in store.iter_records("Project")
        if v.payload.get("account_id") == account_id
    }
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))

    def add(bucket: dict[str, Decimal], money: dict[str, Any] | None, sign: int = 1) -> None:
        if money:
            bucket[str(money["currency"])] += sign * Decimal(str(money["amount"]))

    invoices: dict[str, dict[str, Any]] = {}
    for v in store.iter_records("Invoice"):
        inv = v.payload
        if inv.get("account_id") == account_id or inv.get("project_id") in projects:
            invoices[v.record_id] = inv
            add(totals["invoiced"], inv["amount"])
            if inv.get("status") in OPEN:
                add(totals["open"], inv["amount"])
    for v in store.iter_records("Payment"):
        pay = v.payload
        if pay.get("invoice_id") in invoices:
            add(totals["collected"], pay["amount"])
            if invoices[pay["invoice_id"]].get("status") in OPEN:
                add(totals["open"], pay["amount"], -1)
    for entity_type, name in (("RevenueEvent", "recognised"), ("CostActual", "cost")):
        for v in store.iter_records(entity_type):
            if v.payload.get("project_id") in projects:
                add(totals[name], v.payload["amount"])
    return {k: dict(v) for k, v in totals.items() if v}


def test_every_accounts_totals_from_one_pass_equal_the_per_account_reading(
    tmp_path: Path,
) -> None:
    store = GoldenStore(open_engine(f"sqlite:///{tmp_path}/golden.db"))
    report = import_lines(store, firm().truth_lines(), system="import")
    assert not report.rejected
    runtime = cast(Runtime, types.SimpleNamespace(store=store))
    accounts = sorted(v.record_id for v in store.iter_records("Account"))
    with routing_pass():
        ours = {a: account_totals(runtime, a) for a in accounts}
    with_money = 0
    for account in accounts:
        expected = reference_totals(store, account)
        assert {k: v for k, v in ours[account].items() if v} == expected, account
        with_money += bool(expected.get("invoiced"))
    assert with_money > 10  # the firm's actuals reach many accounts: the comparison has teeth


def test_a_routing_pass_works_a_value_out_once_and_forgets_it_after() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with routing_pass():
        assert once("k", compute) == once("k", compute) == 1
    assert once("k", compute) == 2 and once("k", compute) == 3  # outside a pass: every time


pytestmark = pytest.mark.integration
