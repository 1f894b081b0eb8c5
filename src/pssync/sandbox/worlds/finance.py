"""What the ERP recognises for each job, month by month, under its revenue method.

T&M earns hours x rate up to its ceiling; when the hours run over, a change order raises the
ceiling (with the world's `change_order_prob`) once 85% of the original is used, else the rest
is written off. Fixed fee earns its price in proportion to hours (the firm's EAC is right, so
an overrun stretches revenue over more months). Milestone work earns 30/30/40% when 35%, 70%
and all of the hours are done. Retainers earn a twelfth of the fee in each of twelve months.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pssync.sandbox.worlds.delivery import Job
from pssync.sandbox.worlds.traits import WorldTraits

CENT = Decimal("0.01")
MILESTONES = ((Decimal("0.35"), Decimal("0.30")), (Decimal("0.70"), Decimal("0.30")))


def month_end(day: dt.date) -> dt.date:
    nxt = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Milestone:
    name: str
    fraction: Decimal  # of hours done when it is reached
    amount: Decimal
    reached: dt.date | None = None


@dataclass
class Books:
    """One job's contract value over time, milestones and recognised revenue by month end."""

    ceilings: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    revenue: dict[dt.date, Decimal] = field(default_factory=dict)


def _value_by_day(job: Job) -> list[tuple[dt.date, Decimal]]:
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for day, person, hours in job.entries:
        out[day] += Decimal(str(hours)) * Decimal(str(round(job.deal.rate(person.role), 2)))
    return sorted(out.items())


def _cumulative_to_months(points: list[tuple[dt.date, Decimal]]) -> dict[dt.date, Decimal]:
    """Cumulative amounts reached on days -> amount recognised per month end (cents)."""
    by_month: dict[dt.date, Decimal] = {}
    for day, cumulative in points:
        by_month[month_end(day)] = cumulative
    out, before = {}, Decimal(0)
    for end in sorted(by_month):
        amount = cents(by_month[end]) - before
        if amount:
            out[end] = amount
        before += amount
    return out


def _time_and_materials(rng: random.Random, traits: WorldTraits, job: Job, books: Books) -> None:
    ceiling = Decimal(job.deal.amount)
    daily = _value_by_day(job)
    total = sum((v for _, v in daily), Decimal(0))
    if total > ceiling and rng.random() < traits.change_order_prob:
        raised, running = (
            (total / 1000).to_integral_value(rounding="ROUND_CEILING") * 1000,
            Decimal(0),
        )
        for day, value in daily:
            running += value
            if running >= ceiling * Decimal("0.85"):
                books.ceilings.append((day, raised))
                break
        ceiling = raised
    points, running = [], Decimal(0)
    for day, value in daily:
        running = min(ceiling, running + value)
        points.append((day, running))
    books.revenue = _cumulative_to_months(points)


def _by_progress(job: Job) -> list[tuple[dt.date, Decimal]]:
    """(day, share of all hours done by that day)."""
    total = Decimal(str(job.hours_logged())) or Decimal(1)
    per_day: dict[dt.date, Decimal] = defaultdict(Decimal)
    for day, _, hours in job.entries:
        per_day[day] += Decimal(str(hours))
    out, running = [], Decimal(0)
    for day in sorted(per_day):
        running += per_day[day]
        out.append((day, running / total))
    return out


def recognise(traits: WorldTraits, jobs: list[Job]) -> dict[int, Books]:
    rng = random.Random(f"worlds:{traits.seed}:finance")
    out = {}
    for job in jobs:
        books = Books(ceilings=[(job.contract_at, Decimal(job.deal.amount))])
        amount = Decimal(job.deal.amount)
        method = job.deal.method
        if method == "time_and_materials":
            _time_and_materials(rng, traits, job, books)
        elif method == "fixed_fee":
            books.revenue = _cumulative_to_months([(d, amount * p) for d, p in _by_progress(job)])
        elif method == "milestone":
            books.milestones = [
                Milestone(f"M{k + 1}", f, amount * s) for k, (f, s) in enumerate(MILESTONES)
            ]
            books.milestones.append(
                Milestone("Final", Decimal(1), amount - sum(m.amount for m in books.milestones))
            )
            progress = _by_progress(job)
            points: list[tuple[dt.date, Decimal]] = []
            for m in books.milestones:
                hit = next((d for d, p in progress if p >= m.fraction - Decimal("0.0001")), None)
                m.reached = hit
                if hit is not None:
                    points.append(
                        (hit, sum((x.amount for x in books.milestones if x.reached), Decimal(0)))
                    )
            books.revenue = _cumulative_to_months(points)
        else:  # retainer
            fee = cents(amount / 12)
            month = job.start.replace(day=1)
            for k in range(12):
                books.revenue[month_end(month)] = fee if k < 11 else amount - fee * 11
                month = month_end(month) + dt.timedelta(days=1)
        out[job.idx] = books
    return out
