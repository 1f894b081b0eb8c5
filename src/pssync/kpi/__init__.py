"""KPIs over the analytics store: handoff speed, delivery and billing discipline, accuracy."""

from pssync.kpi.accuracy import forecast_variance, utilization_accuracy
from pssync.kpi.delivery import (
    conversion_time,
    conversions,
    milestone_adherence,
    project_code_sla,
    start_variance,
)

__all__ = [
    "conversion_time",
    "conversions",
    "forecast_variance",
    "milestone_adherence",
    "project_code_sla",
    "start_variance",
    "utilization_accuracy",
]
