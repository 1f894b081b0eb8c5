"""Contracts, billing and collections: what the ERP knows about each won project.

Every contract line bills by its method (monthly T&M in arrears, fixed-fee instalments,
milestones when achieved, retainers monthly in advance). Invoicing runs late for some months
and slow payers pay late: both are account- or month-level behaviour a forecast must learn.
Invoices dated on or after today are kept as a plan the activity clock issues later.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from pssync.sandbox.firm.reference import TAX_CODES, Reference
from pssync.sandbox.firm.units import (
    month_end,
    month_from_index,
    month_index,
    split_by_weights,
    split_cents,
    tax_cents,
)
from pssync.sandbox.firm.world import (
    AccountRec,
    Assignment,
    ContractLineRec,
    InvoiceRec,
    MilestoneRec,
    OppRec,
    PaymentRec,
    ProjectRec,
)

MILESTONE_PLANS = ((30, 40, 30), (20, 30, 50), (25, 25, 25, 25))
MILESTONE_NAMES = ("Mobilisation", "Design sign-off", "Build complete", "Go-live")
PAYER_DELAY = {"prompt": (-5, 5), "slow": (10, 40), "very_slow": (45, 120)}


def invoice_lag(rng: random.Random) -> int:
    """Days from billable event to invoice: mostly prompt, sometimes weeks late."""
    roll = rng.random()
    if roll < 0.7:
        return rng.randint(1, 5)
    if roll < 0.9:
        return rng.randint(6, 20)
    return rng.randint(30, 75)


def terms_days(terms: str) -> int:
    return int(terms.split()[-1])


@dataclass
class Books:
    contracts: list[ContractLineRec] = field(default_factory=list)
    milestones: list[MilestoneRec] = field(default_factory=list)
    invoices: list[InvoiceRec] = field(default_factory=list)
    planned_invoices: list[InvoiceRec] = field(default_factory=list)
    payments: list[PaymentRec] = field(default_factory=list)
    planned_payments: list[PaymentRec] = field(default_factory=list)


class Biller:
    """Builds contract lines and invoices; numbering is chronological per legal entity."""

    def __init__(self, ref: Reference, accounts: list[AccountRec], seed: int) -> None:
        self.ref = ref
        self.accounts = accounts
        self.rng = random.Random(f"finance:{seed}")
        self.books = Books()
        self._seq: dict[str, int] = {}

    def contract(
        self, project: ProjectRec, opp: OppRec, assignments: list[Assignment]
    ) -> ContractLineRec:
        start, end = project.planned_start, project.planned_end
        amount = opp.amount_cents
        line = ContractLineRec(
            idx=len(self.books.contracts),
            id=f"cl-{project.id[4:]}",
            project=project.idx,
            method=project.revenue_method,
            amount_cents=amount,
            start=start,
            end=end,
            created=(project.won_at or project.draft_at) + dt.timedelta(days=2),
        )
        months = [month_from_index(m) for m in range(month_index(start), month_index(end) + 1)]
        if line.method == "fixed_fee":
            line.schedule = list(
                zip([month_end(m) for m in months], split_cents(amount, len(months)), strict=True)
            )
        elif line.method == "retainer":
            per = max(100, amount // len(months))
            line.amount_cents = per * len(months)
            line.schedule = [(m, per) for m in months]
        line.budget_cost_cents = sum(
            a.total_halves * a.cost_cents // 2 for a in assignments if a.hard
        )
        self.books.contracts.append(line)
        if line.method == "milestone":
            self._milestones(line)
        return line

    def _milestones(self, line: ContractLineRec) -> None:
        plan = self.rng.choice(MILESTONE_PLANS)
        amounts = split_by_weights(line.amount_cents, list(plan))
        span = (line.end - line.start).days
        names = MILESTONE_NAMES[-len(plan) :] if len(plan) < 4 else MILESTONE_NAMES
        for k, (name, cents) in enumerate(zip(names, amounts, strict=True)):
            due = line.start + dt.timedelta(days=span * (k + 1) // len(plan))
            slip = self.rng.randint(0, 30) if self.rng.random() < 0.3 else 0
            mid = f"ms-{line.id[3:]}-{k + 1}"
            self.books.milestones.append(
                MilestoneRec(mid, line.idx, name, due, due + dt.timedelta(days=slip), cents)
            )

    def billing_events(
        self, line: ContractLineRec, tm_months: list[tuple[int, int, int]]
    ) -> list[tuple[dt.date, int, str, str | None]]:
        """(issue date, net cents, period label, milestone id) for every invoice of the line."""
        out: list[tuple[dt.date, int, str, str | None]] = []
        if line.method == "time_and_materials":
            for month, bill, _ in tm_months:
                end = month_end(month_from_index(month))
                if end < self.ref.today and bill > 0:
                    out.append(
                        (end + dt.timedelta(days=invoice_lag(self.rng)), bill, f"{end:%Y-%m}", None)
                    )
        elif line.method == "fixed_fee":
            for end, cents in line.schedule:
                out.append(
                    (end + dt.timedelta(days=invoice_lag(self.rng)), cents, f"{end:%Y-%m}", None)
                )
        elif line.method == "retainer":
            for first, cents in line.schedule:
                out.append(
                    (
                        first + dt.timedelta(days=self.rng.randint(0, 4)),
                        cents,
                        f"{first:%Y-%m}",
                        None,
                    )
                )
        else:
            for m in self.books.milestones:
                if m.contract == line.idx:
                    out.append(
                        (
                            m.achieved + dt.timedelta(days=invoice_lag(self.rng)),
                            m.amount_cents,
                            m.name,
                            m.id,
                        )
                    )
        return out

    def draft_invoice(
        self,
        line: ContractLineRec,
        project: ProjectRec,
        issue: dt.date,
        net: int,
        period: str,
        milestone: str | None,
    ) -> InvoiceRec:
        account = self.accounts[project.account]
        bp = TAX_CODES[account.tax_code][1]
        return InvoiceRec(
            idx=-1,
            id="",
            number="",
            contract=line.idx,
            project=project.idx,
            account=account.idx,
            issue=issue,
            due=issue + dt.timedelta(days=terms_days(account.payment_terms)),
            net_cents=net,
            tax_cents=tax_cents(net, bp),
            currency=project.currency,
            period=period,
            milestone=milestone,
        )

    def number(self, invoice: InvoiceRec, legal_entity: str) -> None:
        """Give an invoice its canonical ID and its ERP's document number, in issue order."""
        invoice.idx = len(self.books.invoices)
        invoice.id = f"inv-{invoice.idx + 1:06d}"
        seq = self._seq.get(legal_entity, 0) + 1
        self._seq[legal_entity] = seq
        invoice.number = {"US01": f"INV-{seq:06d}", "DE01": f"9{seq:08d}"}.get(
            legal_entity, f"AU-INV-{seq:05d}"
        )
        self.books.invoices.append(invoice)

    def payments_for(self, invoice: InvoiceRec) -> list[PaymentRec]:
        """Collections: slow payers pay late, some in two parts, a few never (disputes)."""
        account = self.accounts[invoice.account]
        rng = random.Random(f"pay:{invoice.id}:{self.ref.params.name}")
        if rng.random() < 0.02:
            return []
        low, high = PAYER_DELAY[account.payer]
        final = max(
            invoice.issue + dt.timedelta(days=1),
            invoice.due + dt.timedelta(days=rng.randint(low, high)),
        )
        gross = invoice.gross_cents
        if account.payer != "prompt" and rng.random() < 0.25:
            first = max(invoice.issue + dt.timedelta(days=1), final - dt.timedelta(days=20))
            half = gross // 2
            return [
                PaymentRec(f"pay-{invoice.id[4:]}-1", invoice.idx, first, half),
                PaymentRec(f"pay-{invoice.id[4:]}-2", invoice.idx, final, gross - half),
            ]
        return [PaymentRec(f"pay-{invoice.id[4:]}-1", invoice.idx, final, gross)]

    def post(self, invoice: InvoiceRec, legal_entity: str) -> None:
        """Number an invoice and schedule its payments (history or plan, by date)."""
        self.number(invoice, legal_entity)
        for p in self.payments_for(invoice):
            (
                self.books.payments if p.received < self.ref.today else self.books.planned_payments
            ).append(p)
