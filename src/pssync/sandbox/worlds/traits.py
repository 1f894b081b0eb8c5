"""What one world is like: every behaviour a seed draws, in one frozen record.

The forecast must hold on firms it was not built on, so each seed draws its own mix of the
habits that break forecasts: lines that grow or shrink, a CRM whose stage probabilities are
optimistic or pessimistic, close dates that slip and bunch at quarter ends, won work queued
for scarce people, T&M that burns more or less than its ceiling, an ERP whose contract dates
lag the PSA's replans, hard bookings made 2-12 weeks ahead, seasonal dips and holidays,
retainers and milestones, fixed-fee overruns. Nothing here is shared with `sandbox.firm`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

# Stage names and the probability the CRM shows for each (the CRM's table never changes;
# what a stage is really worth is `WorldTraits.optimism` times it).
STAGES = (("Qualify", 10), ("Discover", 20), ("Propose", 40), ("Negotiate", 60), ("Commit", 80))
LINE_POOL = ("advisory", "build", "cloudops", "analytics", "cyber", "change", "quality", "erp")
METHODS = ("time_and_materials", "fixed_fee", "milestone", "retainer")


@dataclass(frozen=True)
class LineTraits:
    code: str
    growth: float  # yearly growth of deal flow (-0.35 .. +0.6)
    deals_per_month: float  # at the start of history
    mean_amount: float  # USD, mean deal size
    method_weights: tuple[float, float, float, float]  # in METHODS order
    rate: float  # USD per hour, the line's consultant rate
    shared_share: float  # share of hours on the scarce shared role (architects)


@dataclass(frozen=True)
class WorldTraits:
    seed: int
    lines: tuple[LineTraits, ...]
    optimism: float  # true P(win | stage) / CRM probability
    stage_weeks: float  # mean weeks per stage
    slip_prob: float  # a deal stalls before closing
    slip_weeks: float  # mean stall
    bunching: float  # share of closes pulled to the quarter end
    quick_share: float  # deals created and won within weeks (add-ons)
    zombie_prob: float  # a lost deal left open in the CRM for months
    capacity_slack: float  # headcount / demand; < 1 queues won work
    hiring_lag_months: int
    tm_burn: float  # T&M hours used / hours sold
    change_order_prob: float  # a T&M overrun raises the ceiling (else written off)
    ff_overrun: float  # fixed-fee hours / baseline
    erp_stale: float  # share of contract lines whose dates never follow the PSA
    booking_lead_weeks: int  # hard bookings made this far ahead
    seasonality: float  # amplitude of deal flow over the year
    summer_dip: float  # share of August hours lost to holidays
    december_dip: float  # share of late-December hours lost
    handoff_weeks: int  # win -> ERP contract line
    fixed_holidays: tuple[tuple[int, int], ...]  # (month, day) public holidays

    def season(self, month: int) -> float:
        """Deal-flow multiplier of a calendar month (peak in spring, trough in summer)."""
        return 1.0 + self.seasonality * math.cos(2 * math.pi * (month - 4) / 12)

    def holidays(self, first_year: int, last_year: int) -> list[dt.date]:
        out = []
        for year in range(first_year, last_year + 1):
            for month, day in self.fixed_holidays:
                out.append(dt.date(year, month, day))
        return sorted(out)


def _line(rng: random.Random, code: str) -> LineTraits:
    weights = [rng.random() ** 2 for _ in METHODS]
    weights[0] += 0.5  # T&M is the common case
    total = sum(weights)
    return LineTraits(
        code=code,
        growth=rng.uniform(-0.35, 0.6),
        deals_per_month=rng.uniform(4.0, 12.0),
        mean_amount=rng.choice((80_000, 120_000, 200_000, 300_000)) * rng.uniform(0.7, 1.4),
        method_weights=(
            weights[0] / total,
            weights[1] / total,
            weights[2] / total,
            weights[3] / total,
        ),
        rate=rng.uniform(120, 260),
        shared_share=rng.uniform(0.0, 0.35),
    )


HOLIDAY_SETS = (
    ((1, 1), (5, 1), (7, 4), (11, 26), (12, 25), (12, 26)),
    ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)),
    ((1, 1), (1, 26), (4, 25), (6, 9), (12, 25), (12, 26)),
    ((1, 1), (10, 3), (10, 31), (12, 24), (12, 25), (12, 26), (12, 31)),
)


def draw_traits(seed: int) -> WorldTraits:
    """The behaviours of world `seed` (same seed, same world)."""
    rng = random.Random(f"worlds:{seed}:traits")
    codes = rng.sample(LINE_POOL, rng.randint(4, 6))
    return WorldTraits(
        seed=seed,
        lines=tuple(_line(rng, code) for code in sorted(codes)),
        optimism=math.exp(rng.uniform(math.log(0.45), math.log(1.25))),
        stage_weeks=rng.uniform(1.5, 5.0),
        slip_prob=rng.uniform(0.1, 0.7),
        slip_weeks=rng.uniform(2, 12),
        bunching=rng.uniform(0.0, 0.8),
        quick_share=rng.uniform(0.05, 0.3),
        zombie_prob=rng.uniform(0.0, 0.5),
        capacity_slack=rng.uniform(0.85, 1.35),
        hiring_lag_months=rng.randint(1, 6),
        tm_burn=rng.uniform(0.75, 1.2),
        change_order_prob=rng.uniform(0.2, 0.9),
        ff_overrun=rng.uniform(1.0, 1.45),
        erp_stale=rng.uniform(0.0, 1.0),
        booking_lead_weeks=rng.randint(2, 12),
        seasonality=rng.uniform(0.0, 0.35),
        summer_dip=rng.uniform(0.0, 0.35),
        december_dip=rng.uniform(0.1, 0.6),
        handoff_weeks=rng.randint(0, 4),
        fixed_holidays=rng.choice(HOLIDAY_SETS),
    )
