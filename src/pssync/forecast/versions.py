"""Forecast versions and scenarios, stored next to the mirror in DuckDB.

A forecast is only accountable if it is kept: each run is stored with its as-of date, scenario
name and parameters, the digest of the exact inputs it read, when it was made, and every
contribution (month, dimensions, component, source record, revenue, cost). Variance against
actuals is then a query, scenarios compare side by side, and `recompute` re-runs a version as
of its date from the bitemporal history to prove the same inputs give the same numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.components import Contribution
from pssync.forecast.learned import learned_forecast
from pssync.forecast.run import ForecastResult, Scenario, run_forecast
from pssync.planning.periods import month_start, months_between

_DDL = """
CREATE TABLE IF NOT EXISTS forecast_version (
    version_id VARCHAR PRIMARY KEY, as_of DATE, scenario VARCHAR, params JSON,
    input_digest VARCHAR, currency VARCHAR, horizon INTEGER, created_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS forecast_cell (
    version_id VARCHAR, kind VARCHAR, month DATE, service_line_id VARCHAR, region_id VARCHAR,
    legal_entity_id VARCHAR, component VARCHAR, source VARCHAR,
    revenue DECIMAL(18,2), cost DECIMAL(18,2));
"""
DIM_COLUMNS = {
    "service_line": "service_line_id",
    "region": "region_id",
    "legal_entity": "legal_entity_id",
}


@dataclass(frozen=True)
class VersionInfo:
    version_id: str
    as_of: dt.date
    scenario: str
    params: dict[str, Any]
    input_digest: str
    currency: str
    horizon: int
    created_at: dt.datetime

    def scenario_obj(self) -> Scenario:
        added = self.params.get("added_capacity", {})
        return Scenario(
            name=self.scenario,
            probability_multiplier=Decimal(self.params.get("probability_multiplier", "1")),
            start_shift_days=int(self.params.get("start_shift_days", 0)),
            added_capacity={str(k): float(v) for k, v in added.items()},
        )


def _ensure(analytics: AnalyticsStore) -> None:
    analytics.con.execute(_DDL)


def _rows(version_id: str, kind: str, items: Sequence[Contribution]) -> dict[str, Any]:
    def col(values: list[Any]) -> Any:
        return np.array(values, dtype=object)

    return {
        "version_id": col([version_id] * len(items)),
        "kind": col([kind] * len(items)),
        "month": col([c.month.isoformat() for c in items]),
        "service_line_id": col([c.dims.service_line_id for c in items]),
        "region_id": col([c.dims.region_id for c in items]),
        "legal_entity_id": col([c.dims.legal_entity_id for c in items]),
        "component": col([c.component.value for c in items]),
        "source": col([c.source for c in items]),
        "revenue": col([str(c.revenue) for c in items]),
        "cost": col([str(c.cost) for c in items]),
    }


def save_version(
    analytics: AnalyticsStore, result: ForecastResult, created_at: dt.datetime | None = None
) -> str:
    """Store a run and its contributions; returns the new version ID."""
    _ensure(analytics)
    version_id = uuid.uuid4().hex[:16]
    created = created_at or dt.datetime.now(dt.UTC)
    lookback = months_between(result.months[0], month_start(result.as_of))
    params: dict[str, Any] = {**result.scenario.params(), "lookback": lookback}
    if any(c.component.value.startswith("learned_") for c in result.revenue):
        params["learned"] = True  # recompute re-learns (learned.py), from history known at T
    analytics.con.execute(
        "INSERT INTO forecast_version VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            version_id,
            result.as_of,
            result.scenario.name,
            json.dumps(params),
            result.input_digest,
            result.currency,
            len(result.months) - lookback,
            created,
        ],
    )
    for kind, items in (("revenue", result.revenue), ("billing", result.billing)):
        if not items:
            continue
        analytics.con.register("cells_in", _rows(version_id, kind, items))
        try:
            analytics.con.execute(
                "INSERT INTO forecast_cell SELECT version_id, kind, CAST(month AS DATE), "
                "service_line_id, region_id, legal_entity_id, component, source, "
                "CAST(revenue AS DECIMAL(18,2)), CAST(cost AS DECIMAL(18,2)) FROM cells_in"
            )
        finally:
            analytics.con.unregister("cells_in")
    return version_id


def list_versions(analytics: AnalyticsStore) -> list[VersionInfo]:
    _ensure(analytics)
    rows = analytics.con.execute(
        "SELECT version_id, as_of, scenario, params, input_digest, currency, horizon, created_at "
        "FROM forecast_version ORDER BY created_at, version_id"
    ).fetchall()
    return [VersionInfo(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7]) for r in rows]


def get_version(analytics: AnalyticsStore, version_id: str) -> VersionInfo:
    found = [v for v in list_versions(analytics) if v.version_id == version_id]
    if not found:
        raise KeyError(f"no forecast version {version_id!r}")
    return found[0]


def version_cells(
    analytics: AnalyticsStore,
    version_id: str,
    by: Sequence[str] = ("service_line",),
    kind: str = "revenue",
) -> list[dict[str, Any]]:
    """A stored version aggregated to month x `by` x component."""
    _ensure(analytics)
    dims = [f"{DIM_COLUMNS[d]} AS {d}" for d in by]
    select = ", ".join(["month", *dims, "component"])
    rows = analytics.con.execute(
        f"SELECT {select}, sum(revenue), sum(cost) FROM forecast_cell "
        "WHERE version_id = ? AND kind = ? GROUP BY ALL ORDER BY ALL",
        [version_id, kind],
    ).fetchall()
    names = ["month", *by, "component", "revenue", "cost"]
    return [dict(zip(names, r, strict=True)) for r in rows]


def compare_versions(
    analytics: AnalyticsStore, version_ids: Sequence[str], by: Sequence[str] = ("service_line",)
) -> list[dict[str, Any]]:
    """Side by side: one row per month x `by`, one revenue column per version."""
    _ensure(analytics)
    dims = [f"{DIM_COLUMNS[d]} AS {d}" for d in by]
    pivots = ", ".join(
        f"sum(revenue) FILTER (WHERE version_id = $v{i}) AS v{i}" for i in range(len(version_ids))
    )
    params = {f"v{i}": v for i, v in enumerate(version_ids)}
    placeholders = ", ".join(f"$v{i}" for i in range(len(version_ids)))
    rows = analytics.con.execute(
        f"SELECT {', '.join(['month', *dims])}, {pivots} FROM forecast_cell "
        f"WHERE kind = 'revenue' AND version_id IN ({placeholders}) GROUP BY ALL ORDER BY ALL",
        params,
    ).fetchall()
    names = ["month", *by, *version_ids]
    zero = Decimal("0.00")
    return [
        {k: (zero if v is None and k in version_ids else v) for k, v in zip(names, r, strict=True)}
        for r in rows
    ]


def recompute(analytics: AnalyticsStore, version_id: str) -> ForecastResult:
    """Re-run a stored version as of its date (valid and known at T) with its scenario."""
    info = get_version(analytics, version_id)
    if info.params.get("learned"):
        return learned_forecast(
            analytics, info.as_of, horizon=info.horizon - 1, currency=info.currency
        ).result
    return run_forecast(
        analytics,
        info.as_of,
        scenario=info.scenario_obj(),
        horizon=info.horizon,
        lookback=int(info.params.get("lookback", 0)),
        currency=info.currency,
    )
