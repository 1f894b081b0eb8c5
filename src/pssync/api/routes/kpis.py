"""KPIs over HTTP: the handoff and delivery measures as of a date, and their monthly trend."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from pssync.api import kpi_cards
from pssync.api.deps import ForecastDep, ViewerDep
from pssync.api.schemas.forecast import KpiPublic, KpiTrendPublic
from pssync.api.schemas.surfaces import KpiCardsPublic
from pssync.api.schemas.types import IsoDate
from pssync.forecast.analytics import AnalyticsStore
from pssync.kpi import conversion_time, milestone_adherence, project_code_sla, start_variance
from pssync.planning.periods import add_months, month_end, month_start

router = APIRouter(prefix="/kpis", tags=["kpis"])
AsOf = Annotated[IsoDate | None, Query(description="Default: today (UTC).")]
SlaDays = Annotated[int, Query(ge=0, le=365)]

# The one number per KPI a card shows (and the trend plots).
HEADLINES = kpi_cards.HEADLINES


def kpi_values(analytics: AnalyticsStore, as_of: dt.date, sla_days: int) -> dict[str, Any]:
    starts = start_variance(analytics, as_of)
    return {
        "conversion_time": conversion_time(analytics, as_of),
        "project_code_sla": project_code_sla(analytics, as_of, sla_days),
        "start_variance": {
            **{k: v for k, v in starts.items() if k != "projects"},
            "started": len(starts.get("projects") or []),
        },
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


def trend_dates(last: dt.date, months: int) -> list[dt.date]:
    """The last `months - 1` month ends before `last`, then `last`."""
    dates = [month_end(add_months(month_start(last), -i)) for i in range(months - 1, 0, -1)]
    return [*dates, last]


def history(analytics: AnalyticsStore, dates: list[dt.date], sla_days: int) -> list[dict[str, Any]]:
    return [kpi_values(analytics, d, sla_days) for d in dates]


def series_of(values: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {name: [] for name in HEADLINES}
    for at_date in values:
        for name, key in HEADLINES.items():
            value = at_date.get(name, {}).get(key)
            out[name].append(None if value is None else float(value))
    return out


def cards(analytics: AnalyticsStore, as_of: dt.date, months: int, sla_days: int) -> KpiCardsPublic:
    """One card per KPI with its trend at the month ends before `as_of`."""
    dates = trend_dates(as_of, months)
    values = history(analytics, dates, sla_days)
    series = series_of(values)
    return KpiCardsPublic.model_validate(
        {
            "as_of": as_of,
            "cards": [
                kpi_cards.card(
                    spec, values[-1].get(spec.key, {}), dates, series[spec.key], sla_days
                )
                for spec in kpi_cards.SPECS
            ],
        }
    )


Months = Annotated[int, Query(ge=1, le=12)]


@router.get("/trend", summary="Each KPI's headline value at the last N month ends")
def trend(
    forecast: ForecastDep,
    _: ViewerDep,
    as_of: AsOf = None,
    months: Months = 6,
    sla_days: SlaDays = 5,
) -> KpiTrendPublic:
    dates = trend_dates(as_of or _today(), months)
    with forecast.mirror() as analytics:
        series = series_of(history(analytics, dates, sla_days))
    return KpiTrendPublic(as_of=dates, series=series)


@router.get("/cards", summary="One card per KPI: value for people, definition, trend")
def kpi_card_list(
    forecast: ForecastDep,
    _: ViewerDep,
    as_of: AsOf = None,
    months: Months = 6,
    sla_days: SlaDays = 5,
) -> KpiCardsPublic:
    with forecast.mirror() as analytics:
        return cards(analytics, as_of or _today(), months, sla_days)
