"""The ground truth reconciles to the cent: what was contracted, billed, paid and recognised."""

from __future__ import annotations

import collections
from decimal import Decimal

import pytest

from pssync.sandbox.firm import Firm
from pssync.sandbox.firm.timesheets import to_date
from pssync.sandbox.firm.units import month_end, month_index


def _lines_by_method(firm: Firm, method: str) -> list[int]:
    return [c.idx for c in firm.books.contracts if c.method == method]


def _invoiced(firm: Firm) -> dict[int, int]:
    out: dict[int, int] = collections.defaultdict(int)
    for inv in firm.books.invoices:
        out[inv.contract] += inv.net_cents
    return out


def test_every_revenue_method_is_used(firm: Firm) -> None:
    methods = {c.method for c in firm.books.contracts}
    assert methods == {"time_and_materials", "fixed_fee", "milestone", "retainer"}


def test_fixed_fee_invoiced_plus_unbilled_is_contract_value(firm: Firm) -> None:
    invoiced = _invoiced(firm)
    planned: dict[int, int] = collections.defaultdict(int)
    for inv in firm.books.planned_invoices:
        planned[inv.contract] += inv.net_cents
    lines = _lines_by_method(firm, "fixed_fee")
    assert lines
    for idx in lines:
        line = firm.books.contracts[idx]
        if firm.projects[line.project].erp_missing:
            continue
        assert sum(c for _, c in line.schedule) == line.amount_cents
        assert invoiced[idx] + planned[idx] == line.amount_cents, line.id
        assert 0 <= invoiced[idx] <= line.amount_cents


def test_milestones_sum_to_their_contract_line(firm: Firm) -> None:
    by_line: dict[int, int] = collections.defaultdict(int)
    for m in firm.books.milestones:
        by_line[m.contract] += m.amount_cents
    assert by_line
    for idx, total in by_line.items():
        assert total == firm.books.contracts[idx].amount_cents


def test_payments_never_exceed_invoices(firm: Firm) -> None:
    paid: dict[int, int] = collections.defaultdict(int)
    for p in firm.books.payments + firm.books.planned_payments:
        paid[p.invoice] += p.amount_cents
    assert paid
    for idx, cents in paid.items():
        inv = firm.books.invoices[idx]
        assert 0 < cents <= inv.gross_cents
        assert all(p.received > inv.issue for p in firm.books.payments if p.invoice == idx)


def test_time_and_materials_invoices_bill_logged_time(firm: Firm) -> None:
    billable: dict[tuple[int, int], int] = collections.defaultdict(int)
    for row in range(firm.history_rows):
        a = firm.assignments[int(firm.time.assignment[row])]
        if firm.time.billable[row]:
            month = month_index(to_date(int(firm.time.day[row])))
            billable[(a.project, month)] += int(firm.time.quarters[row]) * a.bill_cents // 4
    checked = 0
    for inv in firm.books.invoices + firm.books.planned_invoices:
        line = firm.books.contracts[inv.contract]
        if line.method == "time_and_materials":
            year, month = (int(x) for x in inv.period.split("-"))
            assert inv.net_cents == billable[(line.project, year * 12 + month - 1)]
            checked += 1
    assert checked


def test_retainers_bill_equal_periods(firm: Firm) -> None:
    for idx in _lines_by_method(firm, "retainer"):
        line = firm.books.contracts[idx]
        amounts = {c for _, c in line.schedule}
        assert len(amounts) == 1
        assert amounts.pop() * len(line.schedule) == line.amount_cents


def test_completed_fixed_fee_recognises_exactly_the_contract(firm: Firm) -> None:
    revenue: dict[int, int] = collections.defaultdict(int)
    for p in firm.postings:
        if p.kind == "revenue" and p.contract is not None:
            revenue[p.contract] += p.amount_cents
    done = [
        firm.books.contracts[i]
        for i in _lines_by_method(firm, "fixed_fee") + _lines_by_method(firm, "milestone")
        if month_end(firm.books.contracts[i].end) < firm.today
        and firm.books.contracts[i].end < firm.today
    ]
    finished = [
        c
        for c in done
        if all(m.achieved < firm.today for m in firm.books.milestones if m.contract == c.idx)
    ]
    if not finished:
        pytest.skip("no finished fixed-price line in this firm")
    for line in finished:
        assert revenue[line.idx] == line.amount_cents, line.id


def test_fixed_fee_work_overruns_its_budget(firm: Firm) -> None:
    overruns = [p for p in firm.projects if p.revenue_method == "fixed_fee" and p.overrun_pct > 0]
    assert overruns
    cost: dict[int, int] = collections.defaultdict(int)
    for p in firm.postings:
        if p.kind == "cost":
            cost[p.project] += p.amount_cents
    over = [
        c
        for c in firm.books.contracts
        if c.method == "fixed_fee" and c.end < firm.today and cost[c.project] > c.budget_cost_cents
    ]
    assert over


def test_money_in_payloads_is_exact_decimal_text(firm: Firm) -> None:
    from pssync.sandbox.firm import canonical

    inv = firm.books.invoices[0]
    payload = canonical.invoice(firm, inv, "open")
    assert Decimal(payload["amount"]["amount"]) * 100 == inv.net_cents
    assert payload["amount"]["currency"] == inv.currency


def test_invoice_numbers_are_chronological_per_entity(firm: Firm) -> None:
    seen: dict[str, list[tuple[object, str]]] = collections.defaultdict(list)
    for inv in firm.books.invoices:
        seen[firm.projects[inv.project].legal_entity].append((inv.issue, inv.number))
    for rows in seen.values():
        assert [n for _, n in rows] == sorted(n for _, n in rows)
        assert [d for d, _ in rows] == sorted(d for d, _ in rows)


def test_late_invoicing_and_slow_payers_are_present(firm: Firm) -> None:
    late = 0
    for inv in firm.books.invoices:
        line = firm.books.contracts[inv.contract]
        if line.method == "time_and_materials":
            year, month = (int(x) for x in inv.period.split("-"))
            late += (
                inv.issue - month_end(inv.issue.replace(year=year, month=month, day=1))
            ).days > 25
    assert late
    slow = [
        p
        for p in firm.books.payments
        if (p.received - firm.books.invoices[p.invoice].due).days > 30
    ]
    assert slow
