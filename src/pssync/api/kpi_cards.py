"""KPI cards: each KPI as a person reads it: a title, the value in its unit (percent, days),
what it measures in words, its trend over past as-of dates, and, when there is nothing to
measure yet, what it needs instead of a blank.

The numbers come from `pssync.kpi` unchanged (`routes.kpis.kpi_values`); this module only
chooses the headline, formats it and says what it means. Fields are read with `.get`, so a
KPI that gains or renames a detail still renders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CardSpec:
    key: str
    title: str
    headline: str  # the field of the KPI's result shown big and plotted
    unit: str  # "percent" or "days"
    definition: str
    needs: str  # what must exist before the KPI has a value
    count_field: str  # the population the value is over
    count_label: tuple[str, str]  # singular, plural


SPECS = (
    CardSpec(
        "conversion_time",
        "Deal-to-project conversion",
        "median_days",
        "days",
        "Median days from a deal's closed-won date to the first project for it.",
        "a closed-won deal with a project",
        "converted",
        ("deal converted", "deals converted"),
    ),
    CardSpec(
        "project_code_sla",
        "Project-code SLA",
        "share",
        "percent",
        "Share of closed-won deals whose ERP project code existed within {sla_days} days of "
        "the win.",
        "a deal won more than {sla_days} days before the as-of date",
        "due",
        ("deal due", "deals due"),
    ),
    CardSpec(
        "start_variance",
        "Project start variance",
        "mean_days",
        "days",
        "Mean days between a project's actual start and its first planned start (positive: late).",
        "a started project with a planned start",
        "started",
        ("project started", "projects started"),
    ),
    CardSpec(
        "milestone_adherence",
        "Milestone billing adherence",
        "share",
        "percent",
        "Share of billing milestones due by the as-of date that were invoiced by their due date.",
        "a billing milestone due by the as-of date",
        "due",
        ("milestone due", "milestones due"),
    ),
)
HEADLINES = {s.key: s.headline for s in SPECS}


def format_value(value: float | None, unit: str) -> str | None:
    """`0.8333` as `83%`, `12.5` as `12.5 days` (`1 day`); None stays None."""
    if value is None:
        return None
    if unit == "percent":
        return f"{value * 100:.0f}%"
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} day" if text in ("1", "-1") else f"{text} days"


def card(
    spec: CardSpec,
    result: dict[str, Any],
    dates: list[dt.date],
    trend: list[float | None],
    sla_days: int,
) -> dict[str, Any]:
    """One card: formatted value or the data it still needs, definition, trend points."""
    value = result.get(spec.headline)
    number = None if value is None else float(value)
    count = result.get(spec.count_field)
    words = {"sla_days": sla_days}
    points = [(d, v) for d, v in zip(dates, trend, strict=True) if v is not None]
    return {
        "key": spec.key,
        "title": spec.title,
        "unit": spec.unit,
        "value": number,
        "display": format_value(number, spec.unit),
        "needs": None if number is not None else f"not enough data yet: needs {spec.needs}",
        "definition": spec.definition.format(**words),
        "population": None if count is None else f"{count} {spec.count_label[count != 1]}",
        "trend": [
            {"as_of": d, "value": v, "display": format_value(v, spec.unit)} for d, v in points
        ],
    }
