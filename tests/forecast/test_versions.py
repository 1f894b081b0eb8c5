"""Versions, scenarios side by side, recompute as of a past date, and no look-ahead."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from forecast_fixtures import at, usd
from forecast_worked_example import AS_OF, AUG, JUL, build

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.run import Scenario, run_forecast
from pssync.forecast.versions import (
    compare_versions,
    list_versions,
    recompute,
    save_version,
    version_cells,
)
from pssync.model import Assignment, Opportunity, RevenueEvent


def _contributions(result: object) -> list[tuple[object, ...]]:
    return sorted(
        (c.month, c.component, c.source, c.dims, c.revenue, c.cost)
        for c in result.revenue  # type: ignore[attr-defined]
    )


def test_versions_are_stored_and_scenarios_compare_side_by_side(tmp_path: Path) -> None:
    firm = build(tmp_path / "g.db")
    analytics = AnalyticsStore(tmp_path / "a.duckdb")
    analytics.sync(firm.store)
    base = run_forecast(analytics, AS_OF, horizon=6)
    upside = run_forecast(
        analytics,
        AS_OF,
        horizon=6,
        scenario=Scenario(
            "upside", probability_multiplier=Decimal("1.2"), added_capacity={"role-arch": 40}
        ),
    )
    v1, v2 = save_version(analytics, base), save_version(analytics, upside)
    infos = {v.version_id: v for v in list_versions(analytics)}
    assert infos[v2].scenario == "upside" and infos[v2].params["probability_multiplier"] == "1.2"
    assert infos[v1].input_digest == infos[v2].input_digest == base.input_digest
    cells = version_cells(analytics, v1)
    assert sum(c["revenue"] for c in cells) == base.total()
    side = {(r["month"], r["service_line"]): r for r in compare_versions(analytics, [v1, v2])}
    erp_jul = side[(JUL, "sl-erp")]
    assert erp_jul[v1] == Decimal("0.00")  # constrained: starts in August
    assert erp_jul[v2] == Decimal("84000.00")  # staffed in July, 70% x 1.2 = 84%
    assert side[(AUG, "sl-erp")][v1] == Decimal("70000.00")


def test_recompute_as_of_a_past_date_ignores_later_facts(tmp_path: Path) -> None:
    firm = build(tmp_path / "g.db")
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    original = run_forecast(analytics, AS_OF, horizon=6)
    version = save_version(analytics, original)
    # later facts: the deal is won in July, more work is booked, revenue is recognised
    firm.put(
        Opportunity.model_validate(
            {
                **_opp_payload(analytics),
                "stage": "Closed Won",
                "is_closed": True,
                "is_won": True,
                "probability": "100",
            }
        ),
        at("2026-07-02"),
    )
    firm.put(
        Assignment(
            id="asg-late",
            project_id="prj-2",
            resource_id="res-cons",
            start_date=dt.date(2026, 7, 1),
            end_date=dt.date(2026, 7, 31),
            hours=Decimal(100),
        ),
        at("2026-06-20"),
    )
    firm.put(
        RevenueEvent(
            id="rev-jun",
            recognized_date=dt.date(2026, 6, 30),
            amount=usd("5000"),
            contract_line_id="cl-2",
        ),
        at("2026-07-01"),
    )
    analytics.sync(firm.store)
    again = recompute(analytics, version)
    assert again.input_digest == original.input_digest
    assert _contributions(again) == _contributions(original)
    assert (
        run_forecast(analytics, dt.date(2026, 7, 5), horizon=6).input_digest
        != original.input_digest
    )


def _opp_payload(analytics: AnalyticsStore) -> dict[str, object]:
    analytics.materialize(AS_OF)
    import json

    row = analytics.con.execute("SELECT payload FROM opportunity WHERE id = 'opp-big'").fetchall()
    return dict(json.loads(row[0][0]))


def test_a_fact_valid_after_t_but_known_before_t_does_not_leak(tmp_path: Path) -> None:
    """No look-ahead on the valid-time axis: a future-dated fact recorded early stays out."""
    firm = build(tmp_path / "g.db")
    analytics = AnalyticsStore()
    analytics.sync(firm.store)
    before = run_forecast(analytics, AS_OF, horizon=6)
    # recorded on 1 June (before T), but only valid from 1 July (after T)
    firm.put(
        Assignment(
            id="asg-future",
            project_id="prj-2",
            resource_id="res-cons",
            start_date=dt.date(2026, 7, 1),
            end_date=dt.date(2026, 7, 31),
            hours=Decimal(100),
        ),
        at("2026-07-01"),
        recorded_at=at("2026-06-01"),
    )
    analytics.sync(firm.store)
    after = run_forecast(analytics, AS_OF, horizon=6)
    assert _contributions(after) == _contributions(before)
    # ...while a forecast as of 2 July sees it: 20 of 22 July working days are left, so
    # 176h x 20/22 x 100 (architect) + 100h x 20/22 x 60 (the new consultant booking)
    seen = run_forecast(analytics, dt.date(2026, 7, 2), horizon=6)

    def july_cost(result: object) -> Decimal:
        return sum(
            (c.cost for c in result.revenue if c.month == JUL),  # type: ignore[attr-defined]
            Decimal(0),
        )

    assert july_cost(after) == Decimal("17600.00")
    assert july_cost(seen) == Decimal("16000.00") + Decimal("5454.55")
