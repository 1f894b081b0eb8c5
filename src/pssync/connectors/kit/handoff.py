"""What an ERP connector's closed-won handoff asks the flow to write: one create-or-update."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VendorWrite:
    """One create-or-update: the vendor's object, its external-ID field and value, the body."""

    object: str
    key_field: str
    external_id: str
    body: dict[str, Any]


def project_dates(project: dict[str, Any], opp: dict[str, Any]) -> tuple[str, str]:
    """A handed-off project's start and end: its plan, else the deal's close date; never an end
    before the start."""
    start = str(project.get("planned_start") or opp["close_date"])
    end = str(project.get("planned_end") or start)
    return start, str(max(dt.date.fromisoformat(end), dt.date.fromisoformat(start)))
