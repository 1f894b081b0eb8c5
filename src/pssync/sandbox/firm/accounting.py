"""Runs the books for every won project: contract, invoices, collections, cost and revenue.

Invoices are numbered in issue order across the whole firm, so numbering is chronological per
legal entity like a real ERP's. Projects whose ERP handoff failed bill nothing: their work is
real (time is logged in the PSA) but invisible to finance, the leakage this misalignment costs.
"""

from __future__ import annotations

from pssync.sandbox.firm.finance import Biller
from pssync.sandbox.firm.ledger import by_project, cost_postings, monthly_actuals, revenue_postings
from pssync.sandbox.firm.reference import Reference
from pssync.sandbox.firm.timesheets import TimeTable
from pssync.sandbox.firm.world import (
    AccountRec,
    Assignment,
    InvoiceRec,
    OppRec,
    PostingRec,
    ProjectRec,
)


def run_books(
    ref: Reference,
    accounts: list[AccountRec],
    opps: list[OppRec],
    projects: list[ProjectRec],
    assignments: list[Assignment],
    table: TimeTable,
    seed: int,
) -> tuple[Biller, list[PostingRec]]:
    actuals = by_project(monthly_actuals(table, assignments))
    biller = Biller(ref, accounts, seed)
    drafts: list[InvoiceRec] = []
    postings: list[PostingRec] = []
    for p in projects:
        if p.is_draft:
            continue
        line = biller.contract(p, opps[p.opp], [assignments[i] for i in p.assignments])
        if p.erp_missing:
            continue
        months = actuals.get(p.idx, [])
        for issue, net, period, milestone in biller.billing_events(line, months):
            drafts.append(biller.draft_invoice(line, p, issue, net, period, milestone))
        milestones = [m for m in biller.books.milestones if m.contract == line.idx]
        postings += cost_postings(p, months, ref.today)
        postings += revenue_postings(p, line, months, milestones, ref.today)
    drafts.sort(key=lambda i: (i.issue, i.project, i.period))
    by_id = {m.id: m for m in biller.books.milestones}
    for inv in drafts:
        if inv.issue < ref.today:
            biller.post(inv, projects[inv.project].legal_entity)
            if inv.milestone:
                by_id[inv.milestone].invoice = inv.idx
        else:
            biller.books.planned_invoices.append(inv)
    postings.sort(key=lambda p: (p.posted, p.kind, p.id))
    return biller, postings
