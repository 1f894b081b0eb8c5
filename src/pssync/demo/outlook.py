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
from pssync.forecast.montecarlo import bands_as_of
from pssync.forecast.run import ForecastResult
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
        result, quarters = bands_as_of(analytics, as_of, horizon=HORIZON_MONTHS, currency=currency)
        version = save_version(analytics, result)
        return Outlook(
            as_of=as_of,
            currency=currency,
            version_id=version,
            total=result.total(),
            result=result,
            quarters=quarters,
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
