"""The firm's internal state: plain records the generator fills and the clock advances.

Canonical payloads and vendor views are both rendered from these records, which is what keeps
the ground truth and the per-system views consistent by construction. Amounts are integer
cents and effort is integer half-hours per day, so nothing here depends on float rounding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

STAGES = (
    ("Prospecting", 15),
    ("Qualification", 30),
    ("Solution Design", 50),
    ("Proposal", 70),
    ("Negotiation", 90),
)
WON, LOST = ("Closed Won", 100), ("Closed Lost", 0)
#: Real chance of moving from each open stage to the next: lower than the CRM's probabilities
#: imply (sales optimism), which is what a calibrated forecast has to learn.
ADVANCE = (0.55, 0.6, 0.65, 0.65, 0.7)
PROPOSAL_INDEX = 3


@dataclass
class Person:
    idx: int
    id: str
    first: str
    last: str
    email: str
    role: str
    region: str
    service_line: str
    hired: dt.date

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class SalesRep:
    idx: int
    id: str
    first: str
    last: str
    email: str
    created: dt.datetime


@dataclass
class AccountRec:
    idx: int
    id: str
    name: str
    legal_name: str
    sector: str
    region: str
    legal_entity: str
    tax_code: str
    payment_terms: str
    currency: str
    created: dt.datetime
    domain: str
    city: str
    payer: str  # prompt | slow | very_slow
    owner: int


@dataclass
class ContactRec:
    id: str
    account: int
    first: str
    last: str
    email: str
    phone: str
    title: str
    is_billing: bool
    created: dt.datetime


@dataclass
class StageEvent:
    at: dt.datetime
    stage: str
    probability: int
    close_date: dt.date

    @property
    def is_closed(self) -> bool:
        return self.stage in (WON[0], LOST[0])

    @property
    def is_won(self) -> bool:
        return self.stage == WON[0]


@dataclass
class LineItem:
    role: str
    hours: int
    rate_cents: int

    @property
    def amount_cents(self) -> int:
        return self.hours * self.rate_cents


@dataclass
class OppRec:
    idx: int
    id: str
    account: int
    name: str
    service_line: str
    category_text: str
    region: str
    legal_entity: str
    currency: str
    revenue_method: str
    duration_months: int
    requested_start: dt.date
    owner: int
    lines: list[LineItem]
    events: list[StageEvent] = field(default_factory=list)
    stale: bool = False
    delivery_start: dt.date | None = None
    project: int | None = None

    @property
    def amount_cents(self) -> int:
        return sum(li.amount_cents for li in self.lines)

    @property
    def created(self) -> dt.datetime:
        return self.events[0].at

    def state_at(self, moment: dt.datetime) -> StageEvent | None:
        """The stage record in force at `moment` (None before the deal existed)."""
        current = None
        for ev in self.events:
            if ev.at > moment:
                break
            current = ev
        return current

    def outcome(self) -> StageEvent:
        return self.events[-1]


@dataclass
class Assignment:
    idx: int
    id: str
    project: int
    person: int
    role: str
    start: dt.date
    end: dt.date
    daily_halves: int
    hard: bool
    created: dt.datetime
    bill_cents: int
    cost_cents: int
    total_halves: int = 0


@dataclass
class Wbs:
    id: str
    code: str
    name: str
    start: dt.date
    end: dt.date
    planned_hours: int


@dataclass
class ProjectRec:
    idx: int
    id: str
    opp: int
    account: int
    name: str
    service_line: str
    region: str
    legal_entity: str
    currency: str
    revenue_method: str
    requested_start: dt.date
    planned_start: dt.date
    planned_end: dt.date
    draft_at: dt.datetime
    won_at: dt.datetime | None
    code: str
    overrun_pct: int = 0
    assignments: list[int] = field(default_factory=list)
    wbs: list[Wbs] = field(default_factory=list)
    erp_missing: bool = False

    @property
    def is_draft(self) -> bool:
        return self.won_at is None

    @property
    def baseline_hours(self) -> int:
        return sum(w.planned_hours for w in self.wbs)


@dataclass
class ContractLineRec:
    idx: int
    id: str
    project: int
    method: str
    amount_cents: int
    start: dt.date
    end: dt.date
    created: dt.datetime
    schedule: list[tuple[dt.date, int]] = field(default_factory=list)  # fixed fee / retainer
    budget_cost_cents: int = 0


@dataclass
class MilestoneRec:
    id: str
    contract: int
    name: str
    due: dt.date
    achieved: dt.date
    amount_cents: int
    invoice: int | None = None


@dataclass
class InvoiceRec:
    idx: int
    id: str
    number: str
    contract: int
    project: int
    account: int
    issue: dt.date
    due: dt.date
    net_cents: int
    tax_cents: int
    currency: str
    period: str
    milestone: str | None = None

    @property
    def gross_cents(self) -> int:
        return self.net_cents + self.tax_cents


@dataclass
class PaymentRec:
    id: str
    invoice: int
    received: dt.date
    amount_cents: int


@dataclass
class PostingRec:
    """A cost actual or revenue event: one dated amount against a project."""

    id: str
    project: int
    contract: int | None
    posted: dt.date
    amount_cents: int
    kind: str  # cost | revenue
