"""Calibration from history: what stages, dates and estimates have really meant at this firm.

CRM probabilities are opinions. Each stage change is a valid-time version of the Opportunity in
the golden store, so the deals that closed by T show, for every stage they passed through, how
often that stage ended in a win. Stage rates shrink toward the CRM's own stage probability when
evidence is thin; service-line and size segments shrink toward their stage (a beta-binomial
prior with `strength` pseudo-deals), so a segment with three deals cannot swing the forecast.
Only versions valid *and* known at T are used: calibration as of T never peeks at later outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.money import FxTable
from pssync.forecast.periods import as_of_instant
from pssync.forecast.snapshot import Snapshot
from pssync.forecast.survival import KaplanMeier
from pssync.model import Opportunity, ProjectStatus

SIZE_BUCKETS = ((Decimal(50_000), "S"), (Decimal(250_000), "M"))


@dataclass(frozen=True)
class DealHistory:
    opportunity: Opportunity  # as valid and known at T
    stages: tuple[tuple[str, Decimal], ...]  # (stage, CRM probability) while open, in order
    first_close_date: dt.date
    created: dt.date

    @property
    def closed(self) -> bool:
        return self.opportunity.is_closed

    @property
    def won(self) -> bool:
        return self.opportunity.is_won


def deal_histories(
    analytics: AnalyticsStore, as_of: dt.date, known_at: dt.datetime | None = None
) -> list[DealHistory]:
    """Every opportunity's stage path up to `as_of`, as known at the end of it (or `known_at`)."""
    by_id: dict[str, list[tuple[dt.datetime, dict[str, Any]]]] = defaultdict(list)
    valid_until = as_of_instant(as_of)
    for record_id, valid_from, _valid_to, payload in analytics.history(
        "Opportunity", known_at or valid_until, valid_until
    ):
        by_id[record_id].append((valid_from, payload))
    out = []
    for versions in by_id.values():
        opps = [Opportunity.model_validate(p) for _, p in versions]
        stages: list[tuple[str, Decimal]] = []
        for o in opps:
            if not o.is_closed and (not stages or stages[-1][0] != o.stage):
                stages.append((o.stage, o.probability / 100))
        created = opps[0].created_at.date() if opps[0].created_at else versions[0][0].date()
        out.append(DealHistory(opps[-1], tuple(stages), opps[0].close_date, created))
    return out


def size_bucket(amount: Decimal) -> str:
    return next((name for limit, name in SIZE_BUCKETS if amount < limit), "L")


@dataclass
class WinRates:
    """Win probability by stage, then stage x service line, then x size bucket."""

    strength: Decimal
    rates: dict[tuple[str, ...], Decimal] = field(default_factory=dict)
    counts: dict[tuple[str, ...], tuple[int, int]] = field(default_factory=dict)
    fx: FxTable | None = None
    currency: str = "USD"

    def keys(self, opp: Opportunity, on: dt.date) -> tuple[tuple[str, ...], ...]:
        amount = opp.amount.amount
        if self.fx is not None:
            amount = self.fx.convert(amount, opp.amount.currency, self.currency, on)
        sl = opp.service_line_id or "-"
        return ((opp.stage,), (opp.stage, sl), (opp.stage, sl, size_bucket(amount)))

    def probability(self, opp: Opportunity) -> Decimal:
        """The most specific calibrated rate for the deal's stage; the CRM's when unseen."""
        for key in reversed(self.keys(opp, opp.close_date)):
            if key in self.rates:
                return self.rates[key]
        return opp.probability / 100


def win_rates(
    deals: list[DealHistory],
    *,
    fx: FxTable | None = None,
    currency: str = "USD",
    strength: Decimal = Decimal(5),
) -> WinRates:
    """Beta-binomial shrinkage: stage -> CRM stage probability, segment -> its parent."""
    rates = WinRates(strength, fx=fx, currency=currency)
    tallies: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    crm_prior: dict[str, list[Decimal]] = defaultdict(list)
    for deal in deals:
        if not deal.closed:
            continue
        seen: set[tuple[str, ...]] = set()
        for stage, crm_p in deal.stages:
            crm_prior[stage].append(crm_p)
            proxy = deal.opportunity.model_copy(update={"stage": stage})
            for key in rates.keys(proxy, deal.opportunity.close_date):
                if key not in seen:
                    seen.add(key)
                    tallies[key][0] += int(deal.won)
                    tallies[key][1] += 1
    for key in sorted(tallies, key=len):
        wins, n = tallies[key]
        if len(key) == 1:
            prior = sum(crm_prior[key[0]], Decimal(0)) / len(crm_prior[key[0]])
        else:
            prior = rates.rates[key[:-1]]
        rates.rates[key] = (Decimal(wins) + strength * prior) / (Decimal(n) + strength)
        rates.counts[key] = (wins, n)
    return rates


def slippage_curve(deals: list[DealHistory], as_of: dt.date) -> KaplanMeier:
    """Days a deal closes after its first expected close date; open deals are censored."""
    durations, events = [], []
    for deal in deals:
        end = deal.opportunity.close_date if deal.closed else as_of
        durations.append(float(max((end - deal.first_close_date).days, 0)))
        events.append(deal.closed)
    return KaplanMeier.fit(durations, events)


def time_to_close_curve(deals: list[DealHistory], as_of: dt.date) -> KaplanMeier:
    """Days from creation to close; open deals are censored at T."""
    durations, events = [], []
    for deal in deals:
        end = deal.opportunity.close_date if deal.closed else as_of
        durations.append(float(max((end - deal.created).days, 0)))
        events.append(deal.closed)
    return KaplanMeier.fit(durations, events)


def overrun_ratios(snap: Snapshot, strength: Decimal = Decimal(3)) -> dict[str | None, Decimal]:
    """Actual / baseline hours of completed projects by service line, shrunk to the firm's.

    Key None holds the firm-wide ratio (1 when no completed project has a baseline).
    """
    per_sl: dict[str | None, list[Decimal]] = defaultdict(list)
    for p in snap.projects.values():
        if p.status == ProjectStatus.COMPLETED and p.baseline_hours:
            actual = snap.hours_to_date.get(p.id, Decimal(0))
            per_sl[p.service_line_id].append(actual / p.baseline_hours)
    every = [r for ratios in per_sl.values() for r in ratios]
    overall = sum(every, Decimal(0)) / len(every) if every else Decimal(1)
    out: dict[str | None, Decimal] = {
        sl: (sum(r, Decimal(0)) + strength * overall) / (len(r) + strength)
        for sl, r in per_sl.items()
        if sl is not None
    }
    out[None] = overall
    return out


@dataclass
class Calibration:
    as_of: dt.date
    win: WinRates
    slippage: KaplanMeier
    time_to_close: KaplanMeier
    overrun: dict[str | None, Decimal]
    deals: list[DealHistory]

    def probability(self, opp: Opportunity) -> Decimal:
        return self.win.probability(opp)

    def overrun_of(self, service_line_id: str | None) -> Decimal:
        return self.overrun.get(service_line_id, self.overrun[None])


def calibrate(analytics: AnalyticsStore, snap: Snapshot, currency: str = "USD") -> Calibration:
    deals = deal_histories(analytics, snap.as_of, snap.known_at)
    return Calibration(
        as_of=snap.as_of,
        win=win_rates(deals, fx=snap.fx, currency=currency),
        slippage=slippage_curve(deals, snap.as_of),
        time_to_close=time_to_close_curve(deals, snap.as_of),
        overrun=overrun_ratios(snap),
        deals=deals,
    )
