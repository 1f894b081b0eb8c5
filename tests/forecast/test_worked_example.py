"""The worked example: delivery cannot staff the architects in July, so revenue moves to August."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from forecast_worked_example import AS_OF, AUG, JUL, OCT, SEP, build

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.components import Component
from pssync.forecast.run import Scenario, run_forecast

Q3 = [JUL, AUG, SEP]


def _pipeline(result: object) -> dict[object, Decimal]:
    out: dict[object, Decimal] = {}
    for c in result.revenue:  # type: ignore[attr-defined]
        if c.component == Component.WEIGHTED_PIPELINE:
            out[c.month] = out.get(c.month, Decimal(0)) + c.revenue
    return out


def test_deal_moves_to_august_and_q3_falls_by_the_july_share(tmp_path: Path) -> None:
    firm = build(tmp_path / "g.db")
    analytics = AnalyticsStore()
    analytics.sync(firm.store)

    constrained = run_forecast(analytics, AS_OF, horizon=6)
    staffed = run_forecast(
        analytics,
        AS_OF,
        horizon=6,
        scenario=Scenario("extra-architect", added_capacity={"role-arch": 40}),
    )

    assert constrained.placements["opp-big"].start.isoformat() == "2026-08-01"
    assert staffed.placements["opp-big"].start.isoformat() == "2026-07-01"
    assert _pipeline(staffed) == {
        JUL: Decimal("70000.00"),
        AUG: Decimal("70000.00"),
        SEP: Decimal("70000.00"),
    }
    assert _pipeline(constrained) == {
        AUG: Decimal("70000.00"),
        SEP: Decimal("70000.00"),
        OCT: Decimal("70000.00"),
    }
    july_share = _pipeline(staffed)[JUL]
    assert staffed.total(months=Q3) - constrained.total(months=Q3) == july_share
    # everything that is not pipeline is identical in both runs
    assert staffed.total(Component.SCHEDULED_BACKLOG) == constrained.total(
        Component.SCHEDULED_BACKLOG
    )
