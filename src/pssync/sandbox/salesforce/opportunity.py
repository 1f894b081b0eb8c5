"""Opportunity behaviour the platform adds on save: stage-derived fields and stage history.

Forecasts downstream read IsClosed/IsWon/ForecastCategoryName and the default Probability of the
stage, and the reconcile flow reads OpportunityHistory, so the emulator reproduces the standard
stage table of a new org and writes a history row whenever a tracked field changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pssync.sandbox.salesforce.errors import SalesforceError


@dataclass(frozen=True)
class Stage:
    probability: int
    forecast_category: str  # API value; the label (ForecastCategoryName) is the same here
    closed: bool
    won: bool


# The default OpportunityStage records of a new Salesforce org.
STAGES: dict[str, Stage] = {
    "Prospecting": Stage(10, "Pipeline", False, False),
    "Qualification": Stage(10, "Pipeline", False, False),
    "Needs Analysis": Stage(20, "Pipeline", False, False),
    "Value Proposition": Stage(50, "Pipeline", False, False),
    "Id. Decision Makers": Stage(60, "Pipeline", False, False),
    "Perception Analysis": Stage(70, "Pipeline", False, False),
    "Proposal/Price Quote": Stage(75, "Pipeline", False, False),
    "Negotiation/Review": Stage(90, "Pipeline", False, False),
    "Closed Won": Stage(100, "Closed", True, True),
    "Closed Lost": Stage(0, "Omitted", True, False),
}
# Fields whose change writes an OpportunityHistory row.
TRACKED = ("StageName", "Amount", "CloseDate", "Probability")


class StageTable:
    """An org's OpportunityStage records: the standard ones plus any custom sales process
    (seeded opportunities with unknown stages add theirs, as an admin would have configured)."""

    def __init__(self, stages: dict[str, Stage] | None = None) -> None:
        self._stages = dict(stages if stages is not None else STAGES)
        self._by_lower = {name.lower(): name for name in self._stages}

    def names(self) -> tuple[str, ...]:
        return tuple(self._stages)

    def known(self, value: str) -> bool:
        return value.lower() in self._by_lower

    def add(self, name: str, stage: Stage) -> None:
        self._stages[name] = stage
        self._by_lower[name.lower()] = name

    def learn(self, row: dict[str, Any]) -> None:
        """Register the stage of a seeded row from its own probability and flags."""
        closed, won = bool(row.get("IsClosed")), bool(row.get("IsWon"))
        category = row.get("ForecastCategoryName") or (
            ("Closed" if won else "Omitted") if closed else "Pipeline"
        )
        probability = row.get("Probability")
        if probability is None:
            probability = 100 if won else 0 if closed else 10
        self.add(str(row["StageName"]), Stage(int(probability), str(category), closed, won))

    def canonical(self, value: str) -> str:
        name = self._by_lower.get(value.lower())
        if name is None:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Stage: bad value for restricted picklist field: {value}",
                ["StageName"],
            )
        return name

    def __getitem__(self, name: str) -> Stage:
        return self._stages[self.canonical(name)]


def derive(
    new: dict[str, Any], old: dict[str, Any] | None, changes: dict[str, Any], stages: StageTable
) -> None:
    """Fill the stage-derived fields of `new` (the merged record) in place.

    A stage change resets Probability and ForecastCategoryName to the stage's defaults unless the
    same write sets them, which is what the UI and API do.
    """
    new["StageName"] = stages.canonical(str(new["StageName"]))
    stage = stages[new["StageName"]]
    stage_changed = old is None or old.get("StageName") != new["StageName"]
    if stage_changed and "Probability" not in changes:
        new["Probability"] = stage.probability
    if new.get("Probability") is None:
        new["Probability"] = stage.probability
    if stage_changed and "ForecastCategoryName" not in changes:
        new["ForecastCategoryName"] = stage.forecast_category
    new.setdefault("ForecastCategoryName", stage.forecast_category)
    if stage.closed:
        new["ForecastCategoryName"] = stage.forecast_category
    new["ForecastCategory"] = new["ForecastCategoryName"]
    new["IsClosed"] = stage.closed
    new["IsWon"] = stage.won
    amount = new.get("Amount")
    new["ExpectedRevenue"] = (
        None if amount is None else round(float(amount) * float(new["Probability"]) / 100, 2)
    )
    close = new.get("CloseDate")
    if isinstance(close, str) and len(close) >= 7:
        new["FiscalYear"] = int(close[:4])
        new["FiscalQuarter"] = (int(close[5:7]) - 1) // 3 + 1
    new.setdefault("HasOpportunityLineItem", False)


def history_needed(new: dict[str, Any], old: dict[str, Any] | None) -> bool:
    return old is None or any(new.get(f) != old.get(f) for f in TRACKED)


def history_row(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """The OpportunityHistory fields (without Id and system fields) for a save of `new`."""
    return {
        "OpportunityId": new["Id"],
        "StageName": new["StageName"],
        "Amount": new.get("Amount"),
        "ExpectedRevenue": new.get("ExpectedRevenue"),
        "CloseDate": new.get("CloseDate"),
        "Probability": new.get("Probability"),
        "ForecastCategory": new.get("ForecastCategory"),
        "PrevAmount": None if old is None else old.get("Amount"),
        "PrevCloseDate": None if old is None else old.get("CloseDate"),
    }


FIELD_TYPES = {"StageName": "DynamicEnum", "Amount": "Currency", "CloseDate": "Date"}


def field_history_rows(new: dict[str, Any], old: dict[str, Any] | None) -> list[dict[str, Any]]:
    """OpportunityFieldHistory rows (without Id and system fields) for a save of `new`: one
    "created" row for a new opportunity, else one per tracked field whose value changed
    (Object Reference, "OpportunityFieldHistory"; the values as the API would write them)."""
    if old is None:
        return [{"OpportunityId": new["Id"], "Field": "created", "DataType": "Text",
                 "OldValue": None, "NewValue": None}]  # fmt: skip
    return [
        {
            "OpportunityId": new["Id"],
            "Field": name,
            "DataType": kind,
            "OldValue": old.get(name),
            "NewValue": new.get(name),
        }
        for name, kind in FIELD_TYPES.items()
        if new.get(name) != old.get(name)
    ]
