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

from pssync.forecast.analytics import AnalyticsStore, known_filter
from pssync.forecast.money import FxTable
from pssync.forecast.realisation import realisation_ratio, realisation_spread
from pssync.forecast.schema import typed_name
from pssync.forecast.snapshot import Snapshot
from pssync.forecast.survival import KaplanMeier
from pssync.model import Opportunity, ProjectStatus
from pssync.planning.periods import as_of_instant

SIZE_BUCKETS = ((Decimal(50_000), "S"), (Decimal(250_000), "M"))
#: A deal still open this many days after its expected close date is stale (the CRM hygiene
#: rule the sync flags as `stale_stage`): nobody is working it, whatever its stage says.
STALE_DAYS = 60
STALE = ("stale",)


@dataclass(frozen=True)
class DealHistory:
    """One deal's path as valid and known at T: the stages it passed while open, and where it
    stands now (plain columns, not a parsed Opportunity: a medium firm has ~25k versions)."""

    id: str
    stages: tuple[tuple[str, Decimal], ...]  # (stage, CRM probability) while open, in order
    first_close_date: dt.date
    created: dt.date
    closed: bool
    won: bool
    close_date: dt.date
    service_line_id: str | None
    amount: Decimal
    currency: str
    went_stale: bool = False  # open more than STALE_DAYS past its close date at some time <= T


_HISTORY_SQL = """
WITH deal AS (
    SELECT id,
       list(stage ORDER BY valid_from) FILTER (WHERE NOT coalesce(is_closed, false)) AS names,
       list(CAST(probability AS VARCHAR) ORDER BY valid_from)
           FILTER (WHERE NOT coalesce(is_closed, false)) AS probs,
       arg_min_null(close_date, valid_from) AS first_close,
       coalesce(CAST(arg_min_null(created_at, valid_from) AS DATE), CAST(min(valid_from) AS DATE))
           AS created,
       coalesce(arg_max_null(is_closed, valid_from), false) AS closed,
       coalesce(arg_max_null(is_won, valid_from), false) AS won,
       arg_max_null(close_date, valid_from) AS close,
       arg_max_null(service_line_id, valid_from) AS sl,
       CAST(arg_max_null(amount, valid_from) AS VARCHAR) AS amount,
       arg_max_null(amount_currency, valid_from) AS ccy,
       coalesce(bool_or(NOT coalesce(is_closed, false) AND
           greatest(valid_from, CAST(close_date AS TIMESTAMPTZ) + INTERVAL {stale} DAY)
           < least(coalesce(valid_to, $valid_until), $valid_until)), false) AS stale
    FROM {table}
    WHERE valid_from <= $valid_until AND {known} AND NOT deleted
    GROUP BY id),
numbered AS (
    SELECT *, dense_rank() OVER (ORDER BY names, probs) AS path,
           row_number() OVER (PARTITION BY names, probs ORDER BY id) AS nth
    FROM deal)
SELECT id, path, CASE WHEN nth = 1 THEN names END, CASE WHEN nth = 1 THEN probs END,
       first_close, created, closed, won, close, sl, amount, ccy, stale
FROM numbered ORDER BY id
"""


def deal_histories(
    analytics: AnalyticsStore, as_of: dt.date, known_at: dt.datetime | None = None
) -> list[DealHistory]:
    """Every opportunity's stage path up to `as_of`, as known at the end of it (or `known_at`).

    One SQL aggregate over the typed opportunity versions (a version that began by T counts
    even if it ended later: its stage was reached by T); consecutive repeats of a stage (a
    version that changed something else) count once.

    Converting DuckDB values to Python is most of the cost, so little is converted: stage
    paths are numbered in SQL and each distinct path (a handful among the large firm's ~80k
    deals) arrives as lists once, on the first deal (by ID) that took it; decimals arrive as
    text (`Decimal(str)` is ~10x faster than DuckDB's DECIMAL conversion).
    """
    valid_until = as_of_instant(as_of)
    analytics.ensure_typed()
    rows = analytics.con.execute(
        _HISTORY_SQL.format(
            table=typed_name("Opportunity"), stale=STALE_DAYS, known=known_filter()
        ),
        {"valid_until": valid_until, "known_at": known_at or valid_until},
    ).fetchall()
    out = []
    paths: dict[int, tuple[tuple[str, Decimal], ...]] = {}
    for (
        rid,
        path,
        names,
        probs,
        first_close,
        created,
        closed,
        won,
        close,
        sl,
        amount,
        ccy,
        stale,
    ) in rows:
        stages = paths.get(path)
        if stages is None:  # rows come by ID, so a path's first deal comes first
            stages = paths[path] = _stage_path(tuple(names or ()), tuple(probs or ()))
        out.append(
            DealHistory(
                rid,
                stages,
                first_close,
                created,
                bool(closed),
                bool(won),
                close,
                sl,
                Decimal(amount),
                ccy,
                bool(stale),
            )
        )
    return out


def _stage_path(names: tuple[str, ...], probs: tuple[str, ...]) -> tuple[tuple[str, Decimal], ...]:
    """(stage, CRM probability / 100) in order, consecutive repeats of a stage once."""
    stages: list[tuple[str, Decimal]] = []
    for stage, p in zip(names, probs, strict=True):
        if not stages or stages[-1][0] != stage:
            stages.append((stage, Decimal(p) / 100))
    return tuple(stages)


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
    as_of: dt.date | None = None

    def is_stale(self, opp: Opportunity) -> bool:
        if self.as_of is None or opp.is_closed:
            return False
        return opp.close_date < self.as_of - dt.timedelta(days=STALE_DAYS)

    def segment_keys(
        self, stage: str, service_line_id: str | None, amount: Decimal, currency: str, on: dt.date
    ) -> tuple[tuple[str, ...], ...]:
        if self.fx is not None:
            amount = self.fx.convert(amount, currency, self.currency, on)
        sl = service_line_id or "-"
        return ((stage,), (stage, sl), (stage, sl, size_bucket(amount)))

    def keys(self, opp: Opportunity, on: dt.date) -> tuple[tuple[str, ...], ...]:
        return self.segment_keys(
            opp.stage, opp.service_line_id, opp.amount.amount, opp.amount.currency, on
        )

    def probability(self, opp: Opportunity) -> Decimal:
        """The stale rate for a stale deal, else the most specific calibrated rate for its
        stage; the CRM's when unseen."""
        if self.is_stale(opp) and STALE in self.rates:
            return self.rates[STALE]
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
    as_of: dt.date | None = None,
) -> WinRates:
    """Beta-binomial shrinkage: stage -> CRM stage probability, segment -> its parent.

    Stale deals get their own rate: of the deals that went stale by T, the share won by T,
    shrunk toward the firm's win rate. A stale deal still open at T counts as not won (so
    far): these deals sit open for months, and a quarter's forecast needs the chance they
    close soon, not eventually. Without it, a stage rate learnt from deals that were worked
    to a close is applied to abandoned ones (the medium firm: ~40% of open deals, 1% won).
    """
    rates = WinRates(strength, fx=fx, currency=currency, as_of=as_of)
    # Closed deals sharing a stage path, segment (service line, size) and outcome count
    # alike: tally each such group once (~80k deals, a few thousand groups), in order of
    # first appearance so keys are met in the same order as deal by deal.
    groups: dict[tuple[tuple[tuple[str, Decimal], ...], str, str, bool], int] = {}
    for deal in deals:
        if not deal.closed:
            continue
        amount = deal.amount
        if fx is not None and deal.currency != currency:
            amount = fx.convert(amount, deal.currency, currency, deal.close_date)
        group = (deal.stages, deal.service_line_id or "-", size_bucket(amount), deal.won)
        groups[group] = groups.get(group, 0) + 1
    tallies: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    prior_sum: dict[str, Decimal] = defaultdict(lambda: Decimal(0))  # exact: 4-place values
    prior_n: dict[str, int] = defaultdict(int)
    for (stages, sl, size, won), count in groups.items():
        seen: set[tuple[str, ...]] = set()
        for stage, crm_p in stages:
            prior_sum[stage] += count * crm_p
            prior_n[stage] += count
            keys: tuple[tuple[str, ...], ...] = ((stage,), (stage, sl), (stage, sl, size))
            for key in keys:
                if key not in seen:
                    seen.add(key)
                    tallies[key][0] += count * int(won)
                    tallies[key][1] += count
    for key in sorted(tallies, key=len):
        wins, n = tallies[key]
        stage = key[0]
        prior = prior_sum[stage] / prior_n[stage] if len(key) == 1 else rates.rates[key[:-1]]
        rates.rates[key] = (Decimal(wins) + strength * prior) / (Decimal(n) + strength)
        rates.counts[key] = (wins, n)
    stale = [d for d in deals if d.went_stale]
    closed = [d for d in deals if d.closed]
    if stale and closed and as_of is not None:
        firm = Decimal(sum(d.won for d in closed)) / len(closed)
        wins = sum(d.won for d in stale)
        rates.rates[STALE] = (Decimal(wins) + strength * firm) / (Decimal(len(stale)) + strength)
        rates.counts[STALE] = (wins, len(stale))
    return rates


def slippage_curve(deals: list[DealHistory], as_of: dt.date) -> KaplanMeier:
    """Days a deal closes after its first expected close date; open deals are censored."""
    durations, events = [], []
    for deal in deals:
        end = deal.close_date if deal.closed else as_of
        durations.append(float(max((end - deal.first_close_date).days, 0)))
        events.append(deal.closed)
    return KaplanMeier.fit(durations, events)


def time_to_close_curve(deals: list[DealHistory], as_of: dt.date) -> KaplanMeier:
    """Days from creation to close; open deals are censored at T."""
    durations, events = [], []
    for deal in deals:
        end = deal.close_date if deal.closed else as_of
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
    realisation: Decimal = Decimal(1)
    #: how far a month's delivered hours stray from its bookings (log sd; None: unseen)
    delivery_spread: float | None = None

    def probability(self, opp: Opportunity) -> Decimal:
        return self.win.probability(opp)

    def overrun_of(self, service_line_id: str | None) -> Decimal:
        return self.overrun.get(service_line_id, self.overrun[None])


def calibrate(
    analytics: AnalyticsStore, snap: Snapshot, currency: str = "USD", *, bands: bool = True
) -> Calibration:
    """Everything learned from history as of the snapshot; without `bands`, not the delivery
    spread only the Monte Carlo band uses (past origins of the learned forecast skip it)."""
    deals = deal_histories(analytics, snap.as_of, snap.known_at)
    return Calibration(
        as_of=snap.as_of,
        win=win_rates(deals, fx=snap.fx, currency=currency, as_of=snap.as_of),
        slippage=slippage_curve(deals, snap.as_of),
        time_to_close=time_to_close_curve(deals, snap.as_of),
        overrun=overrun_ratios(snap),
        deals=deals,
        realisation=realisation_ratio(analytics, snap),
        delivery_spread=realisation_spread(analytics, snap) if bands else None,
    )
