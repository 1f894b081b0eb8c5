"""KPIs on a hand-made history: handoff SLA, conversion time, starts, milestones, accuracy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import FirmWriter, at, usd
from forecast_worked_example import AS_OF, build

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.run import run_forecast
from pssync.forecast.versions import save_version
from pssync.kpi import (
    conversion_time,
    forecast_variance,
    milestone_adherence,
    project_code_sla,
    start_variance,
    utilization_accuracy,
)
from pssync.model import (
    BillingMilestone,
    Invoice,
    Opportunity,
    Project,
    RevenueEvent,
    TimeEntry,
)

D = Decimal


def _opp(oid: str, won: bool) -> Opportunity:
    return Opportunity(
        id=oid,
        account_id="acc",
        name=oid,
        stage="Closed Won" if won else "Propose",
        probability=D(100 if won else 50),
        amount=usd(1000),
        close_date=dt.date(2026, 3, 1),
        is_closed=won,
        is_won=won,
    )


def _handoffs(firm: FirmWriter) -> None:
    for oid in ("w1", "w2", "w3"):
        firm.put(_opp(oid, False), at("2026-02-01"))
        firm.put(_opp(oid, True), at("2026-03-02"))
    # w1: project on day 1, coded on day 3; w2: project day 2, coded day 10; w3: nothing
    firm.put(
        Project(
            id="p1",
            name="p1",
            account_id="acc",
            opportunity_id="w1",
            planned_start=dt.date(2026, 3, 16),
        ),
        at("2026-03-03"),
    )
    firm.put(
        Project(
            id="p1",
            name="p1",
            account_id="acc",
            opportunity_id="w1",
            project_code="PRJ-1",
            planned_start=dt.date(2026, 3, 16),
        ),
        at("2026-03-05"),
    )
    firm.put(
        Project(
            id="p1",
            name="p1",
            account_id="acc",
            opportunity_id="w1",
            project_code="PRJ-1",
            planned_start=dt.date(2026, 3, 23),
            actual_start=dt.date(2026, 3, 30),
        ),
        at("2026-03-30"),
    )
    firm.put(Project(id="p2", name="p2", account_id="acc", opportunity_id="w2"), at("2026-03-04"))
    firm.put(
        Project(id="p2", name="p2", account_id="acc", opportunity_id="w2", project_code="PRJ-2"),
        at("2026-03-12"),
    )


def test_handoff_kpis(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    _handoffs(firm)
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    as_of = dt.date(2026, 4, 1)
    assert conversion_time(analytics, as_of) == {
        "won": 3,
        "converted": 2,
        "median_days": 1.5,
        "mean_days": 1.5,
    }
    sla = project_code_sla(analytics, as_of, sla_days=5)
    assert (sla["due"], sla["met"]) == (3, 1)
    assert project_code_sla(analytics, as_of, sla_days=10)["met"] == 2
    # as of 6 March, w2 and w3 are not yet due under a 5-day SLA: only w1 counts (met)
    early = project_code_sla(analytics, dt.date(2026, 3, 6), sla_days=5)
    assert (early["due"], early["met"]) == (1, 1)
    starts = start_variance(analytics, as_of)
    assert starts["projects"] == [{"project_id": "p1", "days": 14, "measured": True}]  # vs 16 Mar


def test_milestone_adherence(tmp_path: Path) -> None:
    firm = FirmWriter(tmp_path / "g.db")
    firm.put(
        [
            Invoice(
                id="inv-1",
                account_id="acc",
                number="1",
                issue_date=dt.date(2026, 3, 1),
                amount=usd(10),
            ),
            Invoice(
                id="inv-2",
                account_id="acc",
                number="2",
                issue_date=dt.date(2026, 3, 20),
                amount=usd(10),
            ),
            BillingMilestone(
                id="m1",
                contract_line_id="cl",
                name="a",
                due_date=dt.date(2026, 3, 1),
                amount=usd(10),
                invoice_id="inv-1",
            ),
            BillingMilestone(
                id="m2",
                contract_line_id="cl",
                name="b",
                due_date=dt.date(2026, 3, 10),
                amount=usd(10),
                invoice_id="inv-2",
            ),
            BillingMilestone(
                id="m3",
                contract_line_id="cl",
                name="c",
                due_date=dt.date(2026, 3, 15),
                amount=usd(10),
            ),
            BillingMilestone(
                id="m4",
                contract_line_id="cl",
                name="d",
                due_date=dt.date(2026, 5, 1),
                amount=usd(10),
            ),
        ],
        at("2026-01-05"),
    )
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    assert milestone_adherence(analytics, dt.date(2026, 4, 1)) == {
        "due": 3,
        "on_time": 1,
        "share": 1 / 3,
    }
    assert milestone_adherence(analytics, dt.date(2026, 4, 1), grace_days=10)["on_time"] == 2


def test_forecast_variance_and_utilization_accuracy(tmp_path: Path) -> None:
    firm = build(tmp_path / "g.db")
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    version = save_version(analytics, run_forecast(analytics, AS_OF, horizon=3))
    # July: 40k recognised on the T&M line; the architect logs 150 of the 176 booked hours
    firm.put(
        RevenueEvent(
            id="rev-jul",
            recognized_date=dt.date(2026, 7, 31),
            amount=usd(40000),
            contract_line_id="cl-2",
        ),
        at("2026-07-31"),
    )
    firm.put(
        [
            TimeEntry(
                id=f"te-{i}",
                project_id="prj-2",
                resource_id="res-arch",
                work_date=dt.date(2026, 7, 6 + i),
                hours=D(15),
            )
            for i in range(10)
        ],
        at("2026-07-31"),
    )
    analytics.sync(firm.store)
    rows = {
        r["service_line"]: r for r in forecast_variance(analytics, version, dt.date(2026, 7, 31))
    }
    data = rows["sl-data"]
    # forecast for July on sl-data: 44,000 scheduled (bookings run to the end of the T&M
    # term, so the headroom under its ceiling is not forecast as unscheduled work)
    assert data["forecast"] == D("44000.00") and data["actual"] == D("40000.00")
    assert data["variance"] == D("-4000.00")
    assert "sl-erp" not in rows  # the deal was forecast from August: nothing in July
    acc = utilization_accuracy(analytics, AS_OF, dt.date(2026, 7, 31))
    assert acc["forecast_hours"] == 176.0 and acc["actual_hours"] == 150.0
    assert acc["accuracy"] == round(1 - 26 / 150, 4)
