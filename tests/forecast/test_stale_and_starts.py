"""Stale deals get the rate stale deals have earned; no deal starts before it closes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import FirmWriter, at, usd

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.calibration import STALE, calibrate
from pssync.forecast.sales_pipeline import requested_start
from pssync.forecast.snapshot import load_snapshot
from pssync.model import Opportunity

D = Decimal


def _opp(oid: str, stage: str = "Propose", p: int = 70, **kw: object) -> Opportunity:
    base: dict[str, object] = dict(
        id=oid,
        account_id="acc",
        name=oid,
        stage=stage,
        probability=D(p),
        amount=usd("100000"),
        close_date=dt.date(2026, 1, 31),
        service_line_id="sl-a",
    )
    base.update(kw)
    return Opportunity.model_validate(base)


def _won(oid: str, won: bool, close: dt.date) -> Opportunity:
    stage = "Closed Won" if won else "Closed Lost"
    return _opp(oid, stage, 100 if won else 0, is_closed=True, is_won=won, close_date=close)


def test_stale_deals_use_the_stale_rate_not_their_stage(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    # four worked deals: three won from Propose
    for i, won in enumerate((True, True, True, False)):
        firm.put(_opp(f"w{i}"), at("2026-01-05"))
        firm.put(_won(f"w{i}", won, dt.date(2026, 1, 30)), at("2026-01-30"))
    # four deals abandoned in Propose (close date 31 Jan, never updated), one still fresh
    for i in range(4):
        firm.put(_opp(f"s{i}"), at("2026-01-05"))
    firm.put(_opp("fresh", close_date=dt.date(2026, 6, 30)), at("2026-05-01"))
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    snap = load_snapshot(analytics, dt.date(2026, 5, 15))
    cal = calibrate(analytics, snap)
    # stale by 15 May (close 31 Jan + 60 days): 4 deals, none won; prior = firm rate 3/4
    assert cal.win.counts[STALE] == (0, 4)
    assert cal.win.rates[STALE] == D(5) * D("0.75") / D(9)
    assert cal.probability(snap.opportunities["s0"]) == cal.win.rates[STALE]
    assert cal.probability(snap.opportunities["fresh"]) == cal.win.rates[("Propose", "sl-a", "M")]
    assert cal.probability(snap.opportunities["fresh"]) > D("0.5")
    # as of 15 March none is stale yet: no stale rate learnt, stage rate applies
    early = calibrate(analytics, load_snapshot(analytics, dt.date(2026, 3, 15)))
    assert STALE not in early.win.rates
    assert early.probability(snap.opportunities["s0"]) == early.win.rates[("Propose", "sl-a", "M")]


def test_start_is_never_before_the_day_after_close(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    opp = _opp("o", close_date=dt.date(2026, 8, 20), requested_start=dt.date(2026, 7, 1))
    firm.put(opp, at("2026-05-01"))
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    snap = load_snapshot(analytics, dt.date(2026, 6, 15))
    assert requested_start(snap, snap.opportunities["o"]) == dt.date(2026, 8, 21)
    early = opp.model_copy(update={"close_date": dt.date(2026, 6, 20)})
    assert requested_start(snap, early) == dt.date(2026, 7, 1)
