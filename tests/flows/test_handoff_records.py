"""The records a handoff creates, without an ERP: codes, milestones, contract line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pssync.flows.handoff_records import contract_line, milestones, project_code

DEAL = {
    "id": "opp-7",
    "account_id": "acc-1",
    "name": "Seven",
    "legal_entity_id": "le-us01",
    "revenue_method": "milestone",
    "duration_months": 3,
    "amount": {"amount": "100000.00", "currency": "USD"},
}


def test_milestones_sum_to_the_contract_value_to_the_cent() -> None:
    plan = milestones(DEAL, "cl-7", dt.date(2026, 8, 3))
    assert [m["due_date"] for m in plan] == ["2026-08-31", "2026-09-30", "2026-10-31"]
    amounts = [Decimal(m["amount"]["amount"]) for m in plan]
    assert amounts == [Decimal("33333.33"), Decimal("33333.33"), Decimal("33333.34")]
    assert sum(amounts) == Decimal("100000.00")


def test_only_milestone_billing_gets_milestones() -> None:
    assert (
        milestones({**DEAL, "revenue_method": "time_and_materials"}, "cl-7", dt.date.today()) == []
    )


def test_project_codes_are_stable_and_name_the_entity() -> None:
    code = project_code(DEAL, "2")
    assert code.startswith("PRJ-US01-") and code == project_code(dict(DEAL), "2")
    assert project_code({**DEAL, "id": "opp-8"}, "2") != code


def test_the_contract_line_carries_value_and_billing_rule() -> None:
    line = contract_line(DEAL, "cl-7", "prj-7", dt.date(2026, 8, 3), dt.date(2026, 10, 30))
    assert line["amount"] == DEAL["amount"] and line["billing_rule"] == "milestone"
    assert line["opportunity_id"] == "opp-7" and line["project_id"] == "prj-7"
