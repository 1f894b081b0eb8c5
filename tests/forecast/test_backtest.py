"""Backtest: model vs CRM pipeline and run-rate baselines, with hand-checked scores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import FirmWriter, at, usd

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backtest import Point, backtest, quarters, score
from pssync.model import Account, ContractLine, Opportunity, RevenueEvent, RevenueMethod

D = Decimal
T = dt.date(2026, 3, 31)


def _firm(tmp_path: Path) -> FirmWriter:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(Account(id="acc", name="A"), at("2026-01-01"))
    firm.put(
        ContractLine(
            id="cl",
            account_id="acc",
            name="Retainer",
            service_line_id="sl-a",
            revenue_method=RevenueMethod.RETAINER,
            amount=usd("60000"),
            start_date=dt.date(2026, 1, 1),
            end_date=dt.date(2026, 6, 30),
        ),
        at("2026-01-01"),
    )
    for month, amount in ((1, 10000), (2, 10000), (3, 10000), (4, 10000), (5, 10000)):
        day = dt.date(2026, month, 28)
        firm.put(
            RevenueEvent(
                id=f"rev-{month}",
                recognized_date=day,
                amount=usd(amount),
                contract_line_id="cl",
                service_line_id="sl-a",
            ),
            at(day.isoformat()),
        )
    firm.put(
        Opportunity(
            id="opp",
            account_id="acc",
            name="New",
            stage="Propose",
            probability=D(50),
            amount=usd("30000"),
            close_date=dt.date(2026, 3, 31),
            service_line_id="sl-a",
            duration_months=3,
            requested_start=dt.date(2026, 4, 1),
        ),
        at("2026-02-01"),
    )
    return firm


def test_scores_per_method_and_horizon(tmp_path: Path) -> None:
    firm = _firm(tmp_path)
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    points = backtest(analytics, [T], horizon=2, realised_as_of=dt.date(2026, 5, 31))
    rows = {(r["method"], r["horizon"]): r for r in score(points, by=("method", "horizon"))}
    # actuals: 10k in April and in May
    assert rows[("run_rate", 1)]["forecast"] == D("10000.00")
    assert rows[("run_rate", 1)]["wape"] == D("0.0000")
    # CRM: 50% x 30k over Apr-Jun = 5k/month + retainer backlog ratable (Apr 30 days of 182)
    crm_apr = rows[("crm_pipeline", 1)]["forecast"]
    assert crm_apr > D("10000") and rows[("crm_pipeline", 1)]["bias"] > 0
    bottom_apr = rows[("bottom_up", 1)]
    assert bottom_apr["forecast"] == crm_apr  # same probability (no closed deals), same start
    model_apr = rows[("model", 1)]  # bottom-up corrected by what Jan/Feb origins got wrong
    assert model_apr["actual"] == D("10000.00")
    wape = abs(model_apr["forecast"] - D("10000.00")) / D("10000.00")
    assert model_apr["wape"] == wape.quantize(D("0.0001"))


def test_backtest_forecast_as_of_t_ignores_facts_valid_after_t(tmp_path: Path) -> None:
    firm = _firm(tmp_path)
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    before = backtest(analytics, [T], horizon=2, realised_as_of=dt.date(2026, 5, 31))
    # a big revenue event, valid (and recorded) after T
    firm.put(
        RevenueEvent(
            id="rev-big",
            recognized_date=dt.date(2026, 4, 15),
            amount=usd(99000),
            contract_line_id="cl",
            service_line_id="sl-a",
        ),
        at("2026-04-15"),
        recorded_at=at("2026-06-01"),
    )
    analytics.sync(firm.store)
    after = backtest(analytics, [T], horizon=2, realised_as_of=dt.date(2026, 5, 31))
    assert [(p.method, p.month, p.forecast) for p in after] == [
        (p.method, p.month, p.forecast) for p in before
    ]
    assert sum(p.actual for p in after) > sum(p.actual for p in before)


def test_quarters_sum_complete_periods_only() -> None:
    t1, t2 = dt.date(2026, 1, 31), dt.date(2026, 2, 28)
    pts = [
        Point("model", t1, h, dt.date(2026, 1 + h, 1), "sl", D(10 * h), D(12)) for h in (1, 2, 3)
    ] + [Point("model", t2, 1, dt.date(2026, 3, 1), "sl", D(5), D(6))]  # quarter incomplete
    (q,) = quarters(pts)
    assert (q.as_of, q.horizon, q.month, q.forecast, q.actual) == (
        t1,
        0,
        dt.date(2026, 2, 1),
        D(60),
        D(36),
    )
    (row,) = score([q], by=("method",))
    assert row["wape"] == D("0.6667") and row["bias"] == D("0.6667")
