"""`pssync kpis`: handoff and delivery KPIs as of a date, over the analytics mirror."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pssync.cli.forecast_cmds import (
    AnalyticsOption,
    AsOfOption,
    DbOption,
    JsonOption,
    KnownNowOption,
    _analytics,
    _as_of,
)
from pssync.cli.output import console, emit_json
from pssync.kpi import conversion_time, milestone_adherence, project_code_sla, start_variance


def kpis_command(
    as_of: AsOfOption = None,
    sla_days: Annotated[int, typer.Option(help="Days allowed from win to coded ERP project.")] = 5,
    known_now: KnownNowOption = False,
    as_json: JsonOption = False,
    db: DbOption = None,
    analytics_path: AnalyticsOption = None,
) -> None:
    """Handoff and delivery KPIs as of a date."""
    date = _as_of(as_of)
    analytics = _analytics(db, analytics_path)
    known = analytics.high_water_mark if known_now else None
    starts = start_variance(analytics, date, known)
    result = {
        "as_of": str(date),
        "known": "now" if known_now else "at the as-of date",
        "conversion_time": conversion_time(analytics, date, known),
        "project_code_sla": project_code_sla(analytics, date, sla_days, known),
        "start_variance": {k: v for k, v in starts.items() if k != "projects"},
        "milestone_adherence": milestone_adherence(analytics, date, known_at=known),
    }
    if as_json:
        emit_json(result)
        return
    table = Table(title=f"KPIs as of {date}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for name, values in result.items():
        if isinstance(values, dict):
            table.add_row(name.replace("_", " "), ", ".join(f"{k}={v}" for k, v in values.items()))
    console.print(table)
