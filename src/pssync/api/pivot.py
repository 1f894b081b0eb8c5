"""The forecast as people read it: months across, service lines down, actuals beside the
forecast, and each number next to the previous version's.

Built from the version's stored cells (the same sums the cells route serves), so every row,
column and grand total is a sum of the same cents and they reconcile exactly. The previous
version is the newest one saved before this one for the same scenario (else simply the one
before): that is the number the reader saw last time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from pssync.api.forecast_service import FIRM, ForecastService
from pssync.api.names import Names
from pssync.api.schemas.forecast import VersionPublic
from pssync.api.schemas.surfaces import (
    PivotAmounts,
    PivotBand,
    PivotCell,
    PivotPublic,
    PivotRowPublic,
)
from pssync.forecast.components import Component
from pssync.forecast.versions import VersionInfo

ZERO = Decimal("0.00")
ACTUALS = Component.ACTUALS.value


@dataclass
class Amounts:
    """One pivot position: realised revenue, what is still forecast, and last version's total."""

    actuals: Decimal = ZERO
    forecast: Decimal = ZERO
    previous: Decimal | None = None

    @property
    def total(self) -> Decimal:
        return self.actuals + self.forecast

    @property
    def delta(self) -> Decimal | None:
        return None if self.previous is None else self.total - self.previous

    def add(self, other: Amounts) -> None:
        self.actuals += other.actuals
        self.forecast += other.forecast
        if other.previous is not None:
            self.previous = (self.previous or ZERO) + other.previous


@dataclass
class PivotRow:
    service_line: str | None
    name: str
    cells: dict[dt.date, Amounts] = field(default_factory=dict)
    total: Amounts = field(default_factory=Amounts)


@dataclass
class Band:
    p10: Decimal
    p50: Decimal
    p90: Decimal


@dataclass
class Pivot:
    version: VersionInfo
    previous: VersionInfo | None
    months: list[dt.date]
    rows: list[PivotRow]
    columns: dict[dt.date, Amounts]
    total: Amounts
    bands: dict[dt.date, Band]
    band_scope: str  # "firm", a service line ID, or "none"


def previous_version(versions: list[VersionInfo], chosen: VersionInfo) -> VersionInfo | None:
    """The newest version before `chosen`, of the same scenario if there is one."""
    before = [
        v for v in versions if (v.created_at, v.version_id) < (chosen.created_at, chosen.version_id)
    ]
    same = [v for v in before if v.scenario == chosen.scenario]
    found = same or before
    return found[-1] if found else None


def _totals(
    forecast: ForecastService, version_id: str, filters: dict[str, str]
) -> dict[tuple[str | None, dt.date], Amounts]:
    out: dict[tuple[str | None, dt.date], Amounts] = defaultdict(Amounts)
    for cell in forecast.cells(version_id, ["service_line"], filters):
        amounts = out[(cell["service_line"], cell["month"])]
        if cell["component"] == ACTUALS:
            amounts.actuals += cell["revenue"]
        else:
            amounts.forecast += cell["revenue"]
    return out


def build_pivot(
    forecast: ForecastService,
    names: Names,
    version: VersionInfo,
    filters: dict[str, str],
    previous: VersionInfo | None = None,
) -> Pivot:
    """The pivot of `version` after `filters` (service_line, region, legal_entity)."""
    current = _totals(forecast, version.version_id, filters)
    before = _totals(forecast, previous.version_id, filters) if previous else {}
    scope = filters.get("service_line", FIRM) if set(filters) <= {"service_line"} else None
    bands = forecast.bands(version.version_id, scope) if scope is not None else []
    # Every month of the version, including those with nothing in them (the band knows them).
    months = sorted({m for _, m in current} | {b["month"] for b in bands})
    lines = sorted(
        {s for s, _ in current} | {s for s, m in before if m in months},
        key=lambda s: (s is None, names.label("service_line", s).lower()),
    )
    rows, columns, total = [], {m: Amounts() for m in months}, Amounts()
    for line in lines:
        row = PivotRow(line, names.label("service_line", line, missing="No service line"))
        for month in months:
            cell = Amounts(**vars(current.get((line, month), Amounts())))
            if previous is not None:
                cell.previous = before[(line, month)].total if (line, month) in before else ZERO
            row.cells[month] = cell
            row.total.add(cell)
            columns[month].add(cell)
        total.add(row.total)
        rows.append(row)
    return Pivot(
        version=version,
        previous=previous,
        months=months,
        rows=rows,
        columns=columns,
        total=total,
        bands={b["month"]: Band(b["p10"], b["p50"], b["p90"]) for b in bands},
        band_scope=("firm" if scope == FIRM else str(scope)) if bands else "none",
    )


def _amounts(a: Amounts) -> dict[str, Decimal | None]:
    return {
        "actuals": a.actuals,
        "forecast": a.forecast,
        "total": a.total,
        "previous": a.previous,
        "delta": a.delta,
    }


def pivot_public(pivot: Pivot, filters: dict[str, str]) -> PivotPublic:
    def version(info: VersionInfo) -> VersionPublic:
        return VersionPublic.model_validate(info.__dict__)

    return PivotPublic(
        version=version(pivot.version),
        previous_version=version(pivot.previous) if pivot.previous else None,
        filters=filters,
        months=pivot.months,
        rows=[
            PivotRowPublic(
                service_line=r.service_line,
                service_line_name=r.name,
                cells=[PivotCell(month=m, **_amounts(c)) for m, c in r.cells.items()],
                total=PivotAmounts(**_amounts(r.total)),
            )
            for r in pivot.rows
        ],
        columns=[PivotCell(month=m, **_amounts(c)) for m, c in pivot.columns.items()],
        total=PivotAmounts(**_amounts(pivot.total)),
        band_scope=pivot.band_scope,
        bands=[PivotBand(month=m, **vars(b)) for m, b in sorted(pivot.bands.items())],
    )
