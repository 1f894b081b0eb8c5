"""Calibration from stage history: hand-computed shrinkage, censoring, and no look-ahead."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from forecast_fixtures import FirmWriter, at, usd

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.calibration import (
    DealHistory,
    calibrate,
    deal_histories,
    overrun_ratios,
    size_bucket,
    win_rates,
)
from pssync.forecast.money import FxTable
from pssync.forecast.snapshot import load_snapshot
from pssync.model import FxRate, Opportunity, Project, Resource, Role, TimeEntry

D = Decimal
STRENGTH = Decimal(5)


def _opp(oid: str, stage: str, p: int, **kw: object) -> Opportunity:
    base = dict(
        id=oid,
        account_id="acc",
        name=oid,
        stage=stage,
        probability=D(p),
        amount=usd("100000"),
        close_date=dt.date(2026, 3, 31),
        service_line_id="sl-a",
    )
    base.update(kw)
    return Opportunity.model_validate(base)


def _closed(oid: str, won: bool, close: str = "2026-04-30") -> Opportunity:
    return _opp(
        oid,
        "Closed Won" if won else "Closed Lost",
        100 if won else 0,
        is_closed=True,
        is_won=won,
        close_date=dt.date.fromisoformat(close),
    )


def _history(firm: FirmWriter) -> None:
    paths = {"d1": (True, True), "d2": (True, False), "d3": (False, False), "d4": (True, True)}
    for oid, (proposed, won) in paths.items():
        firm.put(_opp(oid, "Qualify", 20), at("2026-01-10"))
        if proposed:
            firm.put(_opp(oid, "Propose", 50), at("2026-02-10"))
        firm.put(_closed(oid, won), at("2026-04-30"))
    firm.put(_opp("open", "Propose", 50, close_date=dt.date(2026, 5, 31)), at("2026-02-10"))
    # closes after the as-of date below: must not count
    firm.put(_opp("late", "Qualify", 20), at("2026-01-10"))
    firm.put(_closed("late", True, "2026-06-20"), at("2026-06-20"))


def test_win_rates_shrink_stage_then_segments(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    _history(firm)
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    snap = load_snapshot(analytics, dt.date(2026, 5, 15))
    cal = calibrate(analytics, snap)
    assert cal.win.counts[("Qualify",)] == (2, 4)  # "late" is still open as of 15 May
    assert cal.win.rates[("Qualify",)] == D(3) / D(9)  # (2 + 5 x 0.2) / (4 + 5)
    assert cal.win.rates[("Propose",)] == D("0.5625")  # (2 + 5 x 0.5) / (3 + 5)
    assert cal.win.rates[("Propose", "sl-a")] == D("0.6015625")
    assert cal.win.rates[("Propose", "sl-a", "M")] == D("0.6259765625")
    assert cal.probability(snap.opportunities["open"]) == D("0.6259765625")
    # unseen stage: the CRM's own probability
    assert cal.probability(_opp("x", "Negotiate", 80)) == D("0.8")

    later = calibrate(analytics, load_snapshot(analytics, dt.date(2026, 7, 1)))
    assert later.win.counts[("Qualify",)] == (3, 5)


def test_slippage_treats_open_deals_as_censored(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    _history(firm)
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    as_of = dt.date(2026, 5, 15)
    cal = calibrate(analytics, load_snapshot(analytics, as_of))
    # four deals closed 30 days late; "late" (and "open", not yet due) are censored
    assert (cal.slippage.observed, cal.slippage.censored) == (4, 2)
    assert cal.slippage.quantile(0.5) == 30.0
    assert len(deal_histories(analytics, as_of)) == 6


def test_overrun_ratio_by_service_line(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(
        [
            Role(id="r", code="R", name="R"),
            Resource(id="res", name="A", role_id="r", region_id="x", cost_rate=usd(1)),
            Project(
                id="p1",
                name="p1",
                account_id="a",
                status="completed",
                service_line_id="sl-a",
                baseline_hours=D(100),
            ),
            Project(
                id="p2",
                name="p2",
                account_id="a",
                status="completed",
                service_line_id="sl-b",
                baseline_hours=D(100),
            ),
            TimeEntry(
                id="t1",
                project_id="p1",
                resource_id="res",
                work_date=dt.date(2026, 1, 5),
                hours=D(24),
            ),
        ],
        at("2026-01-05"),
    )
    firm.put(
        [
            TimeEntry(
                id=f"t2-{i}",
                project_id="p2",
                resource_id="res",
                work_date=dt.date(2026, 1, 5),
                hours=D(20),
            )
            for i in range(5)
        ],
        at("2026-01-05"),
    )
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    ratios = overrun_ratios(load_snapshot(analytics, dt.date(2026, 2, 1)))
    assert ratios[None] == D("0.62")  # mean of 0.24 and 1.00
    assert ratios["sl-a"] == pytest.approx(D("0.525"))  # (0.24 + 3 x 0.62) / 4


def _rates_deal_by_deal(
    deals: list[DealHistory], fx: FxTable, strength: Decimal = STRENGTH
) -> tuple[list[tuple[tuple[str, ...], Decimal]], list[tuple[tuple[str, ...], tuple[int, int]]]]:
    """The shrinkage rule applied one closed deal and one stage visit at a time."""
    tallies: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    visits: dict[str, list[Decimal]] = defaultdict(list)
    for deal in deals:
        if not deal.closed:
            continue
        sl = deal.service_line_id or "-"
        size = size_bucket(fx.convert(deal.amount, deal.currency, "USD", deal.close_date))
        seen: set[tuple[str, ...]] = set()
        for stage, p in deal.stages:
            visits[stage].append(p)
            keys: tuple[tuple[str, ...], ...] = ((stage,), (stage, sl), (stage, sl, size))
            for key in keys:
                if key not in seen:
                    seen.add(key)
                    tallies[key][0] += int(deal.won)
                    tallies[key][1] += 1
    rates: dict[tuple[str, ...], Decimal] = {}
    for key in sorted(tallies, key=len):
        wins, n = tallies[key]
        prior = (
            sum(visits[key[0]], D(0)) / len(visits[key[0]]) if len(key) == 1 else rates[key[:-1]]
        )
        rates[key] = (D(wins) + strength * prior) / (D(n) + strength)
    return list(rates.items()), [(k, (tallies[k][0], tallies[k][1])) for k in rates]


def test_grouped_win_rates_equal_the_deal_by_deal_tally() -> None:
    rng = random.Random(11)
    fx = FxTable(
        [
            FxRate(
                id="fx-eur",
                from_currency="EUR",
                to_currency="USD",
                rate=D("1.1"),
                effective_date=dt.date(2020, 1, 1),
            )
        ]
    )
    probability = {"Qualify": D("0.1"), "Propose": D("0.35"), "Negotiate": D("0.7")}
    deals = []
    for i in range(3000):
        path = rng.sample(list(probability), rng.randrange(0, 4))
        if path and rng.random() < 0.2:
            path.append(path[0])  # a stage revisited later counts once per deal
        deals.append(
            DealHistory(
                id=f"opp-{i}",
                stages=tuple((s, probability[s]) for s in path),
                first_close_date=dt.date(2025, 1, 1),
                created=dt.date(2024, 6, 1),
                closed=rng.random() < 0.8,
                won=rng.random() < 0.3,
                close_date=dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(400)),
                service_line_id=rng.choice(["sl-a", "sl-b", None]),
                amount=D(rng.randrange(1_000, 400_000)),
                currency=rng.choice(["USD", "EUR"]),
            )
        )
    rates = win_rates(deals, fx=fx, currency="USD", as_of=dt.date(2026, 6, 1))
    expected_rates, expected_counts = _rates_deal_by_deal(deals, fx)
    assert list(rates.rates.items()) == expected_rates
    assert [str(v) for v in rates.rates.values()] == [str(v) for _, v in expected_rates]
    assert list(rates.counts.items()) == expected_counts
