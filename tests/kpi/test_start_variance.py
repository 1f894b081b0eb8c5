"""Start variance: the recorded actual start, else the first day time was logged."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.kpi import start_variance


def fact(entity_type: str, payload: dict[str, Any], day: str = "2025-12-01") -> str:
    return json.dumps(
        {"entity_type": entity_type, "valid_from": f"{day}T09:00:00+00:00", "payload": payload}
    )


def project(pid: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "name": pid,
        "account_id": "acc-1",
        "status": "active",
        "planned_start": "2026-01-05",
        "planned_end": "2026-06-30",
        "currency": "USD",
        **extra,
    }


def entry(n: int, pid: str, day: str) -> dict[str, Any]:
    return {
        "id": f"te-{n}",
        "project_id": pid,
        "resource_id": "res-1",
        "work_date": day,
        "hours": "8",
    }


def test_a_psa_without_actual_start_is_measured_by_its_first_logged_day() -> None:
    analytics = AnalyticsStore()
    lines = [
        fact("Project", project("prj-logged")),
        fact("Project", project("prj-recorded", actual_start="2026-01-02")),
        fact("Project", project("prj-idle")),
        fact("TimeEntry", entry(1, "prj-logged", "2026-01-09"), "2026-01-09"),
        fact("TimeEntry", entry(2, "prj-logged", "2026-01-07"), "2026-01-07"),
        fact("TimeEntry", entry(3, "prj-recorded", "2026-01-20"), "2026-01-20"),
        fact("TimeEntry", entry(4, "prj-idle", "2026-03-02"), "2026-03-02"),  # after T
    ]
    load_truth(analytics, lines)
    result = start_variance(analytics, dt.date(2026, 2, 1))
    assert {r["project_id"]: (r["days"], r["measured"]) for r in result["projects"]} == {
        "prj-logged": (2, False),  # first logged 01-07, planned 01-05
        "prj-recorded": (-3, True),  # the recorded start wins over the time entries
    }
    assert result["mean_days"] == -0.5 and result["late_share"] == 0.5
