"""KPIs over HTTP: the handoff and delivery measures as of a date, and their monthly trend."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from pssync.api.deps import ForecastDep, ViewerDep
from pssync.api.schemas.forecast import KpiPublic, KpiTrendPublic
from pssync.api.schemas.types import IsoDate
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.periods import add_months, month_end, month_start
from pssync.kpi import conversion_time, milestone_adherence, project_code_sla, start_variance

router = APIRouter(prefix="/kpis", tags=["kpis"])
AsOf = Annotated[IsoDate | None, Query(description="Default: today (UTC).")]
SlaDays = Annotated[int, Query(ge=0, le=365)]

# The one number per KPI a tile shows (and the trend plots).
HEADLINES = {
    "conversion_time": "median_days",
    "project_code_sla": "share",
    "start_variance": "mean_days",
    "milestone_adherence": "share",
}


def kpi_values(analytics: AnalyticsStore, as_of: dt.date, sla_days: int) -> dict[str, Any]:
    starts = start_variance(analytics, as_of)
    return {
        "conversion_time": conversion_time(analytics, as_of),
        "project_code_sla": project_code_sla(analytics, as_of, sla_days),
        "start_variance": {k: v for k, v in starts.items() if k != "projects"},
        "milestone_adherence": milestone_adherence(analytics, as_of),
    }


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.get("", summary="Handoff and delivery KPIs as of a date")
def kpis(
    forecast: ForecastDep, _: ViewerDep, as_of: AsOf = None, sla_days: SlaDays = 5
) -> KpiPublic:
    date = as_of or _today()
    with forecast.mirror() as analytics:
        return KpiPublic(as_of=date, values=kpi_values(analytics, date, sla_days))


@router.get("/trend", summary="Each KPI's headline value at the last N month ends")
def trend(
    forecast: ForecastDep,
    _: ViewerDep,
    as_of: AsOf = None,
    months: Annotated[int, Query(ge=1, le=12)] = 6,
    sla_days: SlaDays = 5,
) -> KpiTrendPublic:
    last = as_of or _today()
    dates = [month_end(add_months(month_start(last), -i)) for i in range(months - 1, 0, -1)]
    dates.append(last)
    series: dict[str, list[float | None]] = {name: [] for name in HEADLINES}
    with forecast.mirror() as analytics:
        for date in dates:
            values = kpi_values(analytics, date, sla_days)
            for name, key in HEADLINES.items():
                value = values[name].get(key)
                series[name].append(None if value is None else float(value))
    return KpiTrendPublic(as_of=dates, series=series)
