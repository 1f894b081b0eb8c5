"""What the dashboard's surfaces read, served to API clients too: the forecast pivot, KPI cards
and integration health per system and object."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from pssync.api.schemas.forecast import VersionPublic


class PivotAmounts(BaseModel):
    actuals: Decimal = Field(description="Realised revenue (the actuals component).")
    forecast: Decimal = Field(description="Backlog and weighted pipeline still to come.")
    total: Decimal
    previous: Decimal | None = Field(description="The previous version's total; null if none.")
    delta: Decimal | None = Field(description="total - previous.")


class PivotCell(PivotAmounts):
    month: dt.date


class PivotRowPublic(BaseModel):
    service_line: str | None
    service_line_name: str
    cells: list[PivotCell]
    total: PivotAmounts


class PivotBand(BaseModel):
    month: dt.date
    p10: Decimal
    p50: Decimal
    p90: Decimal


class PivotPublic(BaseModel):
    version: VersionPublic
    previous_version: VersionPublic | None
    filters: dict[str, str]
    months: list[dt.date]
    rows: list[PivotRowPublic]
    columns: list[PivotCell]
    total: PivotAmounts
    band_scope: str = Field(description="'firm', a service line ID, or 'none'.")
    bands: list[PivotBand]


class KpiPoint(BaseModel):
    as_of: dt.date
    value: float
    display: str


class KpiCard(BaseModel):
    key: str
    title: str
    unit: str = Field(description="'percent' (value is a share 0..1) or 'days'.")
    value: float | None
    display: str | None = Field(description="The value for people, e.g. '83%', '4.5 days'.")
    needs: str | None = Field(description="When there is no value: what it needs first.")
    definition: str
    population: str | None
    trend: list[KpiPoint]


class KpiCardsPublic(BaseModel):
    as_of: dt.date
    cards: list[KpiCard]


class ObjectHealthPublic(BaseModel):
    system: str
    object: str
    status: str = Field(description="ok, attention (rejects or open exceptions), error.")
    newest_change_at: dt.datetime | None
    lag_seconds: float | None = Field(description="Now minus the newest change applied.")
    applied: int = Field(description="Changes applied in the window.")
    per_minute: float = Field(description="Changes applied per minute over the window.")
    decided: int
    rejected: int
    error_rate: float | None = Field(description="Rejected / decided in the window.")
    written: int = Field(description="Records delivered to this object in the window.")
    dead_letters: int
    open_exceptions: int
    last_success_at: dt.datetime | None


class SystemHealthPublic(BaseModel):
    system: str
    status: str
    circuit_open_until: dt.datetime | None
    circuit_reason: str | None
    objects: list[ObjectHealthPublic]


class IntegrationHealthPublic(BaseModel):
    now: dt.datetime
    window_minutes: int
    systems: list[SystemHealthPublic]
