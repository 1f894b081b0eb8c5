"""Forecast runs, versions, cells with bands, comparisons, drill-down and KPIs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from pssync.api.schemas.types import IsoDate


class ScenarioBase(BaseModel):
    name: str = Field(default="base", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
    probability_multiplier: Decimal = Field(default=Decimal(1), ge=0, le=10)
    start_shift_days: int = Field(default=0, ge=-3650, le=3650)
    added_capacity: dict[str, float] = Field(
        default_factory=dict, description="Weekly hours by role_id or role_id@region_id."
    )


class ForecastRunCreate(BaseModel):
    as_of: IsoDate | None = Field(default=None, description="Default: today (UTC).")
    horizon: int = Field(default=12, ge=1, le=60)
    lookback: int = Field(default=0, ge=0, le=36)
    scenario: ScenarioBase = Field(default_factory=ScenarioBase)
    known_now: bool = Field(
        default=False, description="Read bulk-loaded history as known now (see docs/forecast.md)."
    )
    band: bool = Field(default=True, description="Compute P10/P50/P90 by Monte Carlo.")


class VersionPublic(BaseModel):
    version_id: str
    as_of: dt.date
    scenario: str
    params: dict[str, Any]
    input_digest: str
    currency: str
    horizon: int
    created_at: dt.datetime


class CellPublic(BaseModel):
    month: dt.date
    service_line: str | None = None
    region: str | None = None
    legal_entity: str | None = None
    service_line_name: str | None = None
    region_name: str | None = None
    legal_entity_name: str | None = None
    component: str
    revenue: Decimal
    cost: Decimal
    margin: Decimal


class BandPublic(BaseModel):
    month: dt.date
    p10: Decimal
    p50: Decimal
    p90: Decimal
    mean: Decimal


class CellsPublic(BaseModel):
    version: VersionPublic
    by: list[str]
    filters: dict[str, str]
    cells: list[CellPublic]
    band_scope: str = Field(description="'firm', a service line ID, or 'none'.")
    bands: list[BandPublic]


class CompareRow(BaseModel):
    month: dt.date
    service_line: str | None = None
    region: str | None = None
    legal_entity: str | None = None
    service_line_name: str | None = None
    region_name: str | None = None
    legal_entity_name: str | None = None
    values: dict[str, Decimal]


class ComparePublic(BaseModel):
    versions: list[VersionPublic]
    by: list[str]
    rows: list[CompareRow]


class SourcePublic(BaseModel):
    source: str
    entity_type: str | None
    record_id: str | None
    component: str
    service_line: str | None
    region: str | None
    legal_entity: str | None
    service_line_name: str | None = None
    region_name: str | None = None
    legal_entity_name: str | None = None
    revenue: Decimal
    cost: Decimal
    trace_url: str | None


class DrilldownPublic(BaseModel):
    version_id: str
    month: dt.date
    filters: dict[str, str]
    component: str | None
    total: Decimal
    sources: list[SourcePublic]


class KpiPublic(BaseModel):
    as_of: dt.date
    values: dict[str, Any]


class KpiTrendPublic(BaseModel):
    as_of: list[dt.date]
    series: dict[str, list[float | None]]


class ConnectorHealth(BaseModel):
    model_config = {"extra": "allow"}

    system: str
    status: str
    xrefs: int
    open_exceptions: int
    versions: int
    last_change_at: dt.datetime | None = None


class HeldBackPublic(BaseModel):
    """Value held back by open exceptions: deals kept out of the forecast, per category."""

    category: str
    currency: str
    deals: int
    amount: Decimal
    open_amount: Decimal
    weighted: Decimal
    won_amount: Decimal
    unvalued: int
