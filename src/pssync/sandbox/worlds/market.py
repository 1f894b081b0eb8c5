"""Deal flow: deals created per line and month, walked through the CRM's stages.

What a stage is really worth differs from the CRM's probability table by the world's
`optimism`; the stage walk is built so that P(win | reached stage s) is exactly
min(0.95, optimism x CRM probability of s). Reps put close dates on quarter ends, push them
when they pass, and some lost deals stay open for months ("zombies"). Quick add-on deals are
created and won within weeks, so some of a quarter's revenue comes from deals no pipeline
snapshot ever showed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from pssync.sandbox.worlds.traits import METHODS, STAGES, LineTraits, WorldTraits

SHARED_ROLE = "architect"
SHARED_PREMIUM = 1.3  # architects bill at 1.3x the line's rate


@dataclass(frozen=True)
class DealEvent:
    at: dt.date
    stage: int
    close_date: dt.date
    is_closed: bool = False
    is_won: bool = False


@dataclass
class Deal:
    idx: int
    line: LineTraits
    account: int
    created: dt.date
    amount: int  # whole USD
    method: str
    duration_months: int
    hours: dict[str, float]  # role code -> hours sold
    requested_start: dt.date
    events: list[DealEvent] = field(default_factory=list)
    won: bool = False
    decided: dt.date | None = None  # the day the buyer really decided (won or lost)

    @property
    def id(self) -> str:
        return f"wopp-{self.idx:05d}"

    def rate(self, role: str) -> float:
        return self.line.rate * (SHARED_PREMIUM if role == SHARED_ROLE else 1.0)


def quarter_end(day: dt.date) -> dt.date:
    q_last_month = ((day.month - 1) // 3) * 3 + 3
    nxt = dt.date(day.year + (q_last_month == 12), q_last_month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; lam stays small (deals per line and month)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _win_odds(traits: WorldTraits, stage: int, quick: bool) -> float:
    boost = 1.3 if quick else 1.0
    return min(0.95, STAGES[stage][1] / 100 * traits.optimism * boost)


class _Walk:
    """The CRM's view of one deal as time passes: stage, close date, pushes."""

    def __init__(self, rng: random.Random, traits: WorldTraits, deal: Deal, today: dt.date):
        self.rng, self.traits, self.deal, self.today = rng, traits, deal, today

    def _guess(self, from_day: dt.date, weeks: float) -> dt.date:
        guess = from_day + dt.timedelta(days=max(7, int(weeks * 7)))
        return quarter_end(guess) if self.rng.random() < self.traits.bunching else guess

    def _push_until(self, stage: int, close: dt.date, until: dt.date) -> dt.date:
        """Reps push a passed close date 2-6 weeks out, each push a CRM edit."""
        while close < until and close < self.today:
            at = close + dt.timedelta(days=1)
            close = self._guess(at, self.rng.randint(2, 6))
            self.deal.events.append(DealEvent(at, stage, close))
        return close

    def run(self, start_stage: int, stage_weeks: float, quick: bool) -> None:
        rng, traits, deal = self.rng, self.traits, self.deal
        t = deal.created
        remaining = (len(STAGES) - start_stage) * stage_weeks + 2
        close = self._guess(t, remaining)
        deal.requested_start = close + dt.timedelta(days=14)
        deal.events.append(DealEvent(t, start_stage, close))
        stage = start_stage
        while True:
            step = max(3, int(rng.expovariate(1 / stage_weeks) * 7))
            last = stage == len(STAGES) - 1
            if last and rng.random() < traits.slip_prob:
                step += int(rng.expovariate(1 / traits.slip_weeks) * 7)
            nxt = t + dt.timedelta(days=step)
            if last:
                won = rng.random() < _win_odds(traits, stage, quick)
                if won and rng.random() < traits.bunching:
                    qe = quarter_end(nxt)
                    if (qe - nxt).days <= 42:
                        nxt = qe - dt.timedelta(days=rng.randint(0, 3))
                self._close(stage, close, nxt, won)
                return
            keep = _win_odds(traits, stage, quick) / _win_odds(traits, stage + 1, quick)
            if rng.random() >= keep:
                self._close(stage, close, nxt, False)
                return
            close = self._push_until(stage, close, nxt)
            if nxt > self.today:
                return
            stage += 1
            deal.events.append(DealEvent(nxt, stage, close))
            t = nxt

    def _close(self, stage: int, close: dt.date, decided: dt.date, won: bool) -> None:
        deal = self.deal
        deal.decided = decided
        recorded = decided
        if not won and self.rng.random() < self.traits.zombie_prob:
            recorded = decided + dt.timedelta(days=self.rng.randint(90, 270))  # left open
        else:
            close = self._push_until(stage, close, decided)
        if recorded > self.today:
            deal.decided = None if won else deal.decided
            return
        deal.won = won
        deal.events.append(DealEvent(recorded, stage, recorded, True, won))


def _new_deal(
    rng: random.Random, traits: WorldTraits, line: LineTraits, idx: int, day: dt.date, n_acc: int
) -> tuple[Deal, bool]:
    quick = rng.random() < traits.quick_share
    scale = 0.3 if quick else 1.0
    amount = max(5_000, int(line.mean_amount * scale * rng.lognormvariate(-0.18, 0.6) / 500) * 500)
    if quick:
        method = "time_and_materials"
        months = rng.randint(1, 3)
    else:
        method = rng.choices(METHODS, weights=line.method_weights)[0]
        months = 12 if method == "retainer" else rng.randint(2, 8)
    share = line.shared_share
    blended = line.rate * ((1 - share) + share * SHARED_PREMIUM)
    total_hours = amount / blended
    hours = {line.code: total_hours * (1 - share)}
    if share > 0.02:
        hours[SHARED_ROLE] = total_hours * share
    deal = Deal(idx, line, rng.randrange(n_acc), day, amount, method, months, hours, day)
    return deal, quick


def build_deals(traits: WorldTraits, start: dt.date, today: dt.date, n_accounts: int) -> list[Deal]:
    """Every deal created from `start` to `today`, with its CRM history up to `today`."""
    rng = random.Random(f"worlds:{traits.seed}:deals")
    deals: list[Deal] = []
    month = start.replace(day=1)
    while month < today:
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        years = (month - start).days / 365.25
        for line in traits.lines:
            lam = line.deals_per_month * (1 + line.growth) ** years * traits.season(month.month)
            for _ in range(poisson(rng, max(0.1, lam))):
                day = month + dt.timedelta(days=rng.randrange((nxt - month).days))
                if day >= today:
                    continue
                deal, quick = _new_deal(rng, traits, line, len(deals) + 1, day, n_accounts)
                weeks = 0.6 if quick else traits.stage_weeks
                first = 3 if quick else rng.choices((0, 1, 2), weights=(5, 3, 2))[0]
                _Walk(rng, traits, deal, today).run(first, weeks, quick)
                deals.append(deal)
        month = nxt
    return deals
