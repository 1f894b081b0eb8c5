"""The forecast, its band by quarter, the KPIs and the open exceptions, from local state only.

Everything here reads the golden store through the DuckDB analytics mirror, the same way
`pssync forecast` and `pssync kpis` do, so the numbers the demo prints are the numbers those
commands print afterwards in the same directory. The forecast is saved as a version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.calibration import Calibration, calibrate
from pssync.forecast.montecarlo import revenue_band
from pssync.forecast.run import ForecastResult, forecast_snapshot
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.forecast.versions import save_version
from pssync.governance.exceptions import ACTIVE, ExceptionStore
from pssync.kpi import conversion_time, milestone_adherence, project_code_sla, start_variance
from pssync.store import GoldenStore

HORIZON_MONTHS = 12


@dataclasses.dataclass
class Outlook:
    as_of: dt.date
    currency: str
    version_id: str
    total: Decimal
    result: ForecastResult
    quarters: list[dict[str, Any]]
    kpis: dict[str, Any]


def quarter_of(month: dt.date) -> str:
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


def quarter_bands(result: ForecastResult, snap: Snapshot, cal: Calibration) -> list[dict[str, Any]]:
    """P10/P50/P90 per quarter. Percentiles do not add up across months, so each quarter is
    its own Monte Carlo run over just its months; the same seed draws the same deals, so the
    quarters describe one set of simulated futures."""
    quarters: dict[str, list[dt.date]] = {}
    for month in result.months:
        quarters.setdefault(quarter_of(month), []).append(month)
    rows = []
    for name, months in quarters.items():
        inside = [c for c in result.revenue if c.month in months]
        part = dataclasses.replace(result, months=months, revenue=inside)
        band = revenue_band(part, snap, cal).horizon
        rows.append(
            {
                "quarter": name,
                "forecast": result.total(months=months),
                "p10": band.p10,
                "p50": band.p50,
                "p90": band.p90,
            }
        )
    return rows


def kpis(analytics: AnalyticsStore, as_of: dt.date, sla_days: int = 5) -> dict[str, Any]:
    """The KPIs `pssync kpis` shows, computed the same way."""
    starts = start_variance(analytics, as_of)
    return {
        "conversion_time": conversion_time(analytics, as_of),
        "project_code_sla": project_code_sla(analytics, as_of, sla_days),
        "start_variance": {k: v for k, v in starts.items() if k != "projects"},
        "milestone_adherence": milestone_adherence(analytics, as_of),
    }


def compute_outlook(
    store: GoldenStore, analytics_path: Path, as_of: dt.date, currency: str = "USD"
) -> Outlook:
    """Mirror the store into DuckDB, forecast as of `as_of`, save the version, add KPIs."""
    analytics = AnalyticsStore(analytics_path)
    try:
        analytics.sync(store)
        snap = load_snapshot(analytics, as_of)
        cal = calibrate(analytics, snap, currency)
        result = forecast_snapshot(
            snap,
            horizon=HORIZON_MONTHS,
            currency=currency,
            probability=cal.probability,
            overrun=cal.overrun_of,
            realisation=cal.realisation,
        )
        version = save_version(analytics, result)
        return Outlook(
            as_of=as_of,
            currency=currency,
            version_id=version,
            total=result.total(),
            result=result,
            quarters=quarter_bands(result, snap, cal),
            kpis=kpis(analytics, as_of),
        )
    finally:
        analytics.close()


def exception_groups(exceptions: ExceptionStore) -> list[dict[str, Any]]:
    """Open exceptions counted by category and owner, largest first."""
    active = [s.value for s in ACTIVE]
    counts = Counter(
        (e.category, e.owner or "(unassigned)") for e in exceptions.find(states=active)
    )
    return [
        {"category": category, "owner": owner, "count": n}
        for (category, owner), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
