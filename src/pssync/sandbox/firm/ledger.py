"""Monthly actuals per project: billable value, cost, and the revenue each method recognises.

Aggregation is vectorised over the time-entry columns. Revenue follows the contract line's
method: time and materials as delivered, fixed fee by percentage of planned cost complete
(capped, trued up at completion), milestones when achieved, retainers ratably per month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np

from pssync.sandbox.firm.timesheets import TimeTable
from pssync.sandbox.firm.units import month_end, month_from_index, month_index
from pssync.sandbox.firm.world import (
    Assignment,
    ContractLineRec,
    MilestoneRec,
    PostingRec,
    ProjectRec,
)


def monthly_actuals(
    table: TimeTable, assignments: list[Assignment]
) -> dict[tuple[int, int], tuple[int, int]]:
    """(project, month index) -> (billable cents, cost cents) over every time entry."""
    if len(table) == 0:
        return {}
    proj = np.array([a.project for a in assignments], dtype=np.int64)[table.assignment]
    bill = np.array([a.bill_cents for a in assignments], dtype=np.int64)[table.assignment]
    cost = np.array([a.cost_cents for a in assignments], dtype=np.int64)[table.assignment]
    months = table.day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    billable = np.where(table.billable, table.quarters * bill // 4, 0)
    costs = table.quarters * cost // 4
    keys = proj * 100_000 + months
    uniq, inverse = np.unique(keys, return_inverse=True)
    bill_sum = np.bincount(inverse, weights=billable.astype(np.float64)).round().astype(np.int64)
    cost_sum = np.bincount(inverse, weights=costs.astype(np.float64)).round().astype(np.int64)
    return {
        (int(k // 100_000), int(k % 100_000)): (int(b), int(c))
        for k, b, c in zip(uniq, bill_sum, cost_sum, strict=True)
    }


def by_project(
    actuals: dict[tuple[int, int], tuple[int, int]],
) -> dict[int, list[tuple[int, int, int]]]:
    """project -> sorted [(month index, billable, cost)]."""
    out: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for (project, month), (bill, cost) in sorted(actuals.items()):
        out[project].append((month, bill, cost))
    return out


def cost_postings(
    project: ProjectRec, months: list[tuple[int, int, int]], today: dt.date
) -> list[PostingRec]:
    out = []
    for month, _, cost in months:
        end = month_end(month_from_index(month))
        if end < today and cost > 0:
            out.append(
                PostingRec(
                    f"cost-{project.id[4:]}-{end:%Y%m}", project.idx, None, end, cost, "cost"
                )
            )
    return out


def revenue_postings(
    project: ProjectRec,
    contract: ContractLineRec,
    months: list[tuple[int, int, int]],
    milestones: list[MilestoneRec],
    today: dt.date,
) -> list[PostingRec]:
    """Revenue events up to today for one contract line, by its revenue method."""
    pid = project.id[4:]
    out: list[PostingRec] = []

    def post(key: str, day: dt.date, cents: int) -> None:
        if cents != 0 and day < today:
            out.append(
                PostingRec(f"rev-{pid}-{key}", project.idx, contract.idx, day, cents, "revenue")
            )

    if contract.method == "time_and_materials":
        for month, bill, _ in months:
            end = month_end(month_from_index(month))
            post(f"{end:%Y%m}", end, bill)
    elif contract.method == "retainer":
        for day, cents in contract.schedule:
            post(f"{day:%Y%m}", month_end(day), cents)
    elif contract.method == "milestone":
        for m in milestones:
            post(m.id[3:], m.achieved, m.amount_cents)
    else:
        recognised, cumulative = 0, 0
        budget = max(1, contract.budget_cost_cents)
        last = month_index(project.planned_end)
        for month, _, cost in months:
            end = month_end(month_from_index(month))
            if end >= today:
                break
            cumulative += cost
            target = min(contract.amount_cents, contract.amount_cents * cumulative // budget)
            if month >= last:
                target = contract.amount_cents
            post(f"{end:%Y%m}", end, target - recognised)
            recognised = target
    return out
