"""The activity clock moves the world forward and reports every change it makes."""

from __future__ import annotations

import collections
import datetime as dt
import json

import pytest

from pssync.sandbox.firm import ActivityClock, ClockChange, Firm, generate_firm
from pssync.store.jsonl import parse_line

ID_FIELDS = ("Id", "id", "BusinessPartner", "BillingDocument", "invoice_no", "customer_no")
STAMP_FIELDS = ("SystemModstamp", "updated_at", "lastModifiedDate", "LastChangeDateTime")


@pytest.fixture(scope="module")
def played() -> tuple[Firm, list[ClockChange], int]:
    firm = generate_firm("small", seed=7)
    before = sum(1 for _ in firm.truth_lines())
    changes = ActivityClock(firm).advance(days=45)
    return firm, changes, before


def _find(firm: Firm, change: ClockChange) -> dict[str, object]:
    for r in firm.views[change.system][change.object]:
        if any(r.get(k) == change.record_id for k in ID_FIELDS):
            return r
    raise AssertionError(f"{change} not in the view")


def test_changes_of_every_kind(played: tuple[Firm, list[ClockChange], int]) -> None:
    _, changes, _ = played
    kinds = {c.kind for c in changes}
    assert kinds == {
        "stage_changed",
        "deal_won",
        "deal_lost",
        "time_logged",
        "invoice_issued",
        "payment_received",
    }
    assert {c.action for c in changes} == {"created", "updated"}


def test_every_change_is_in_the_view_with_a_bumped_stamp(
    played: tuple[Firm, list[ClockChange], int],
) -> None:
    firm, changes, _ = played
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=45)
    for change in changes:
        record = _find(firm, change)
        stamp = next(str(record[k]) for k in STAMP_FIELDS if k in record)
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        if moment.tzinfo is None:  # the legacy file drop writes UTC without an offset
            moment = moment.replace(tzinfo=dt.UTC)
        assert start <= moment < end, (change, stamp)


def test_worked_example_is_won_and_its_draft_goes_live(
    played: tuple[Firm, list[ClockChange], int],
) -> None:
    firm, _, _ = played
    row = firm.view_record("salesforce", "Opportunity", "opp-worked-example")
    ws = firm.view_record("kantata", "workspaces", "prj-worked-example")
    assert row is not None and ws is not None
    assert row["IsWon"] is True and row["StageName"] == "Closed Won"
    assert ws["status"]["message"] == "Active"
    allocations = [
        r for r in firm.views["kantata"]["workspace_allocations"] if r["workspace_id"] == ws["id"]
    ]
    assert all(r["hard"] for r in allocations)


def test_truth_grows_with_valid_facts(played: tuple[Firm, list[ClockChange], int]) -> None:
    firm, changes, before = played
    lines = list(firm.truth_lines())
    new = lines[before:]
    assert len(new) >= len([c for c in changes if c.kind == "time_logged"])
    times = []
    for text in new:
        change = parse_line(text, "test")
        assert change.valid_from >= dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        times.append(change.valid_from)
    assert times == sorted(times)
    types = collections.Counter(json.loads(t)["entity_type"] for t in new)
    assert {"Opportunity", "TimeEntry", "Invoice", "Payment", "Project", "Assignment"} <= set(types)


def test_clock_is_deterministic_and_continues(played: tuple[Firm, list[ClockChange], int]) -> None:
    _, changes, _ = played
    firm = generate_firm("small", seed=7)
    clock = ActivityClock(firm)
    first = clock.advance(days=20)
    second = ActivityClock(firm).advance(days=25)
    assert first + second == changes
    assert firm.clock_now == dt.datetime(2026, 7, 16, tzinfo=dt.UTC)


def test_invoices_and_payments_keep_reconciling(
    played: tuple[Firm, list[ClockChange], int],
) -> None:
    firm, _, _ = played
    paid: dict[int, int] = collections.defaultdict(int)
    for p in firm.books.payments:
        paid[p.invoice] += p.amount_cents
    for idx, cents in paid.items():
        assert cents <= firm.books.invoices[idx].gross_cents
    numbers = [i.id for i in firm.books.invoices]
    assert len(numbers) == len(set(numbers))
