"""Components per contract-line method through the whole engine, with FX and exact totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import FirmWriter, at, usd
from forecast_worked_example import AS_OF, AUG, JUL, SEP, build

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.components import Component
from pssync.forecast.run import ForecastResult, run_forecast
from pssync.model import (
    BillingMilestone,
    ContractLine,
    Money,
    PercentCompleteBasis,
    Project,
    RevenueEvent,
    RevenueMethod,
)

JUN = dt.date(2026, 6, 1)
D = Decimal


def _by(result: ForecastResult, source: str, component: Component) -> dict[dt.date, Decimal]:
    out: dict[dt.date, Decimal] = {}
    for c in result.revenue:
        if c.source == source and c.component == component:
            out[c.month] = out.get(c.month, D(0)) + c.revenue
    return out


def _forecast(firm: FirmWriter, **kwargs: object) -> ForecastResult:
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    return run_forecast(analytics, AS_OF, horizon=6, **kwargs)  # type: ignore[arg-type]


def test_time_and_materials_scheduled_unscheduled_and_cost(tmp_path: Path) -> None:
    result = _forecast(build(tmp_path / "g.db"))
    # 60k contract, 12k recognised in May: 48k left; 176h x 250 booked in July
    assert _by(result, "ContractLine:cl-2", Component.SCHEDULED_BACKLOG) == {JUL: D("44000.00")}
    # the bookings run to the end of the term (31 Jul): the 4k they leave under the T&M
    # ceiling is headroom, not work still to come, so nothing is unscheduled
    assert _by(result, "ContractLine:cl-2", Component.UNSCHEDULED_BACKLOG) == {}
    cost = sum(c.cost for c in result.revenue if c.component == Component.SCHEDULED_BACKLOG)
    assert cost == D("17600.00")  # 176h x 100 cost rate
    # the May actual is before the window; the T&M July revenue is billed in August
    assert result.total(Component.ACTUALS) == 0
    billed = {c.month: c.revenue for c in result.billing if c.source == "ContractLine:cl-2"}
    assert billed == {AUG: D("44000.00")}


def test_actuals_are_converted_on_their_day_and_cells_reconcile(tmp_path: Path) -> None:
    firm = build(tmp_path / "g.db")
    firm.put(
        RevenueEvent(
            id="rev-eur",
            recognized_date=dt.date(2026, 6, 10),
            amount=Money(amount=D("1000.01"), currency="EUR"),
            service_line_id="sl-adv",
            region_id="reg-na",
            legal_entity_id="le-us",
        ),
        at("2026-06-10"),
    )
    result = _forecast(firm)
    assert result.total(Component.ACTUALS) == D("1100.01")  # 1000.01 x 1.10, rounded once
    cells = result.cells()
    assert sum(c["revenue"] for c in cells) == result.total()
    by_sl = result.cells(by=["service_line"])
    assert sum(c["revenue"] for c in by_sl) == result.total()
    assert {c["service_line"] for c in by_sl} == {"sl-adv", "sl-data", "sl-erp"}


def test_fixed_fee_milestone_and_retainer_lines(tmp_path: Path) -> None:
    firm = build(tmp_path / "g.db")
    t = at("2026-05-01")
    firm.put(
        [
            Project(
                id="prj-ff",
                name="FF",
                account_id="acc-1",
                status="active",
                region_id="reg-na",
                baseline_hours=D("400"),
                planned_start=dt.date(2026, 6, 1),
                planned_end=dt.date(2026, 9, 30),
            ),
            ContractLine(
                id="cl-ff",
                account_id="acc-1",
                project_id="prj-ff",
                name="FF",
                revenue_method=RevenueMethod.FIXED_FEE,
                amount=usd("40000"),
                start_date=dt.date(2026, 6, 1),
                end_date=dt.date(2026, 9, 30),
                percent_complete_basis=PercentCompleteBasis.HOURS,
                service_line_id="sl-adv",
            ),
            ContractLine(
                id="cl-ms",
                account_id="acc-1",
                name="MS",
                revenue_method=RevenueMethod.MILESTONE,
                amount=usd("30000"),
                start_date=dt.date(2026, 6, 1),
                end_date=dt.date(2026, 9, 30),
            ),
            BillingMilestone(
                id="ms-1",
                contract_line_id="cl-ms",
                name="Design",
                due_date=dt.date(2026, 7, 15),
                amount=usd("10000"),
            ),
            BillingMilestone(
                id="ms-2",
                contract_line_id="cl-ms",
                name="Go-live",
                due_date=dt.date(2026, 9, 15),
                amount=usd("20000"),
            ),
            ContractLine(
                id="cl-ret",
                account_id="acc-1",
                name="Retainer",
                revenue_method=RevenueMethod.RETAINER,
                amount=usd("3000"),
                start_date=dt.date(2026, 7, 1),
                end_date=dt.date(2026, 9, 30),
            ),
        ],
        t,
    )
    result = _forecast(firm)
    ff = {m: v for m, v in _by(result, "ContractLine:cl-ff", Component.UNSCHEDULED_BACKLOG).items()}
    # no bookings, no hours yet: 400h burn evenly per day 16 Jun .. 30 Sep -> revenue follows
    assert sum(ff.values()) == D("40000.00") and all(v > 0 for v in ff.values())
    assert _by(result, "ContractLine:cl-ms", Component.SCHEDULED_BACKLOG) == {
        JUL: D("10000.00"),
        SEP: D("20000.00"),
    }
    ret = _by(result, "ContractLine:cl-ret", Component.SCHEDULED_BACKLOG)
    assert set(ret) == {JUL, AUG, SEP} and sum(ret.values()) == D("3000.00")
    bills = {(c.source, c.month): c.revenue for c in result.billing}
    assert bills[("ContractLine:cl-ret", JUL)] == D("1000.00")
    assert bills[("ContractLine:cl-ms", SEP)] == D("20000.00")
