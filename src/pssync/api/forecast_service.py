"""Forecast runs, versions, bands and drill-down for the API, over one DuckDB analytics file.

DuckDB connections are not safe to share between threads and FastAPI runs sync routes in a
thread pool, so every use of the analytics store goes through one lock. Monte Carlo bands are
not part of a stored version (`forecast.versions`), so the API keeps them beside it in its own
table (`api_forecast_band`): one band per month for the firm and per service line, computed
once when the version is made, because percentiles cannot be re-added from cells later.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.calibration import Calibration, calibrate
from pssync.forecast.montecarlo import BandReport, revenue_band
from pssync.forecast.run import ForecastResult, Scenario, forecast_snapshot
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.forecast.versions import (
    DIM_COLUMNS,
    VersionInfo,
    compare_versions,
    get_version,
    list_versions,
    save_version,
    version_cells,
)
from pssync.store import GoldenStore

ALL_DIMS = tuple(DIM_COLUMNS)
FIRM = ""  # band scope of the whole firm; otherwise a service line ID
_BAND_DDL = """
CREATE TABLE IF NOT EXISTS api_forecast_band (
    version_id VARCHAR, scope VARCHAR, month DATE,
    p10 DECIMAL(18,2), p50 DECIMAL(18,2), p90 DECIMAL(18,2), mean DECIMAL(18,2));
"""


@dataclasses.dataclass(frozen=True)
class RunRequest:
    as_of: dt.date
    scenario: Scenario
    horizon: int = 12
    lookback: int = 0
    known_now: bool = False
    band: bool = True


def _bands_by_scope(
    result: ForecastResult, snap: Snapshot, cal: Calibration, n: int
) -> dict[str, BandReport]:
    """The firm's band and one per service line (deals and cells of that line only)."""
    out = {FIRM: revenue_band(result, snap, cal, n=n)}
    lines = {c.dims.service_line_id for c in result.revenue if c.dims.service_line_id}
    for line in sorted(lines):
        part = dataclasses.replace(
            result, revenue=[c for c in result.revenue if c.dims.service_line_id == line]
        )
        deals = {k: o for k, o in snap.opportunities.items() if o.service_line_id == line}
        out[line] = revenue_band(part, dataclasses.replace(snap, opportunities=deals), cal, n=n)
    return out


class ForecastService:
    """Thread-safe facade over the analytics store for the routes and the dashboard."""

    def __init__(
        self, analytics: AnalyticsStore, store: GoldenStore, currency: str, simulations: int
    ) -> None:
        self.analytics = analytics
        self.store = store
        self.currency = currency
        self.simulations = simulations
        self.lock = threading.Lock()
        with self.lock:
            self.analytics.con.execute(_BAND_DDL)

    def close(self) -> None:
        with self.lock:
            self.analytics.close()

    @contextlib.contextmanager
    def mirror(self) -> Iterator[AnalyticsStore]:
        """The analytics store, synced with the golden store, held under the lock (KPIs)."""
        with self.lock:
            self.analytics.sync(self.store)
            yield self.analytics

    def run(self, req: RunRequest) -> VersionInfo:
        """Bring the mirror up to date, forecast as of `req.as_of`, store the version + bands."""
        with self.lock:
            analytics = self.analytics
            analytics.sync(self.store)
            known = analytics.high_water_mark if req.known_now else None
            snap = load_snapshot(analytics, req.as_of, known)
            cal = calibrate(analytics, snap, self.currency)
            result = forecast_snapshot(
                snap,
                scenario=req.scenario,
                horizon=req.horizon,
                lookback=req.lookback,
                currency=self.currency,
                probability=cal.probability,
                overrun=cal.overrun_of,
                realisation=cal.realisation,
            )
            version_id = save_version(analytics, result)
            if req.band:
                for scope, report in _bands_by_scope(result, snap, cal, self.simulations).items():
                    for month, band in report.by_month.items():
                        analytics.con.execute(
                            "INSERT INTO api_forecast_band VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [version_id, scope, month, band.p10, band.p50, band.p90, band.mean],
                        )
            return get_version(analytics, version_id)

    def versions(self) -> list[VersionInfo]:
        with self.lock:
            return list_versions(self.analytics)

    def version(self, version_id: str) -> VersionInfo:
        with self.lock:
            return get_version(self.analytics, version_id)

    def cells(
        self,
        version_id: str,
        by: Sequence[str],
        filters: dict[str, str],
        kind: str = "revenue",
    ) -> list[dict[str, Any]]:
        """Month x `by` x component with revenue, cost and margin, after dimension filters."""
        with self.lock:
            get_version(self.analytics, version_id)
            rows = version_cells(self.analytics, version_id, by=ALL_DIMS, kind=kind)
        acc: dict[tuple[Any, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for row in rows:
            if any(row[d] != v for d, v in filters.items()):
                continue
            key = (row["month"], *(row[d] for d in by), row["component"])
            acc[key][0] += row["revenue"]
            acc[key][1] += row["cost"]
        out = []
        for key, (revenue, cost) in sorted(acc.items(), key=lambda kv: [str(k) for k in kv[0]]):
            cell: dict[str, Any] = {"month": key[0], **dict(zip(by, key[1:-1], strict=True))}
            cell.update(component=key[-1], revenue=revenue, cost=cost, margin=revenue - cost)
            out.append(cell)
        return out

    def bands(self, version_id: str, scope: str = FIRM) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.analytics.con.execute(
                "SELECT month, p10, p50, p90, mean FROM api_forecast_band "
                "WHERE version_id = ? AND scope = ? ORDER BY month",
                [version_id, scope],
            ).fetchall()
        return [dict(zip(("month", "p10", "p50", "p90", "mean"), r, strict=True)) for r in rows]

    def compare(self, version_ids: Sequence[str], by: Sequence[str]) -> list[dict[str, Any]]:
        with self.lock:
            for version_id in version_ids:
                get_version(self.analytics, version_id)
            return compare_versions(self.analytics, version_ids, by=by)

    def sources(
        self, version_id: str, month: dt.date, filters: dict[str, str], component: str | None
    ) -> list[dict[str, Any]]:
        """The contributions behind one cell: each source record with its revenue and cost."""
        where = ["version_id = $v", "kind = 'revenue'", "month = $m"]
        params: dict[str, Any] = {"v": version_id, "m": month}
        for dim, value in filters.items():
            where.append(f"{DIM_COLUMNS[dim]} = ${dim}")
            params[dim] = value
        if component:
            where.append("component = $component")
            params["component"] = component
        with self.lock:
            get_version(self.analytics, version_id)
            rows = self.analytics.con.execute(
                "SELECT source, component, service_line_id, region_id, legal_entity_id, "
                "sum(revenue), sum(cost) FROM forecast_cell WHERE "
                + " AND ".join(where)
                + " GROUP BY ALL ORDER BY 6 DESC, 1",
                params,
            ).fetchall()
        names = ("source", "component", "service_line", "region", "legal_entity", "revenue", "cost")
        return [dict(zip(names, r, strict=True)) for r in rows]
