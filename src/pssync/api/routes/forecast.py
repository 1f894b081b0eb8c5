"""Forecast over HTTP: run and save a version, read its cells and bands, compare, drill down.

Cells are month x chosen dimensions x component; the band is the firm's, or a service line's
when the view is filtered to one (percentiles are not additive, so other filters have none).
Drill-down lists the contributions behind one cell, each a source record with a trace link.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Request

from pssync.api.deps import CtxDep, ForecastDep, OperatorDep, StoreDep, ViewerDep, audit_call
from pssync.api.forecast_service import ALL_DIMS, FIRM, RunRequest
from pssync.api.names import NamesDep
from pssync.api.pivot import build_pivot, pivot_public, previous_version
from pssync.api.schemas.forecast import (
    BandPublic,
    CellPublic,
    CellsPublic,
    ComparePublic,
    CompareRow,
    DrilldownPublic,
    ForecastRunCreate,
    HeldBackPublic,
    SourcePublic,
    VersionPublic,
)
from pssync.api.schemas.surfaces import PivotPublic
from pssync.api.schemas.types import IsoDate
from pssync.forecast.components import Component
from pssync.forecast.run import Scenario
from pssync.forecast.versions import VersionInfo

router = APIRouter(prefix="/forecast", tags=["forecast"])
VersionPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
ByQuery = Annotated[
    str, Query(description="Comma-separated: service_line, region, legal_entity.", max_length=64)
]
DimQuery = Annotated[str | None, Query(max_length=200)]
DIM_KINDS = ("service_line", "region", "legal_entity")


def _by(text: str) -> list[str]:
    dims = [d.strip() for d in text.split(",") if d.strip()]
    unknown = [d for d in dims if d not in ALL_DIMS]
    if unknown or len(set(dims)) != len(dims):
        raise HTTPException(422, f"by: choose distinct dimensions from {list(ALL_DIMS)}")
    return dims


def _filters(
    service_line: str | None, region: str | None, legal_entity: str | None
) -> dict[str, str]:
    given = {"service_line": service_line, "region": region, "legal_entity": legal_entity}
    return {k: v for k, v in given.items() if v}


def version_public(info: VersionInfo) -> VersionPublic:
    return VersionPublic.model_validate(info.__dict__)


def _version(forecast: ForecastDep, version_id: str) -> VersionInfo:
    try:
        return forecast.version(version_id)
    except KeyError:
        raise HTTPException(404, f"no forecast version {version_id}") from None


@router.post("/runs", summary="Run the forecast and save it as a version", status_code=201)
def run(
    body: ForecastRunCreate,
    request: Request,
    forecast: ForecastDep,
    store: StoreDep,
    who: OperatorDep,
) -> VersionPublic:
    s = body.scenario
    scenario = Scenario(s.name, s.probability_multiplier, s.start_shift_days, s.added_capacity)
    req = RunRequest(
        as_of=body.as_of or dt.datetime.now(dt.UTC).date(),
        scenario=scenario,
        horizon=body.horizon,
        lookback=body.lookback,
        known_now=body.known_now,
        band=body.band,
    )
    try:
        info = forecast.run(req)
    except LookupError as exc:  # e.g. a missing FX rate, named with its pair and date
        raise HTTPException(422, str(exc)) from None
    audit_call(
        store,
        request,
        who,
        "forecast.run",
        entity_type="ForecastVersion",
        record_id=info.version_id,
        changes={"as_of": str(req.as_of), **scenario.params()},
    )
    return version_public(info)


@router.get("/held-back", summary="Value held back by open exceptions, per category")
def held_back(ctx: CtxDep, _: ViewerDep) -> list[HeldBackPublic]:
    """Deals kept out of the golden data (and the forecast) by open exceptions, read from the
    records the exceptions hold: one line per category and currency."""
    from pssync.runtime.held_back import held_back_now  # the runtime loads the engine

    lines = held_back_now(ctx.store, ctx.settings)
    return [HeldBackPublic.model_validate(line.as_dict()) for line in lines]


@router.get("/versions", summary="Stored forecast versions, oldest first")
def versions(forecast: ForecastDep, _: ViewerDep) -> list[VersionPublic]:
    return [version_public(v) for v in forecast.versions()]


@router.get("/versions/{version_id}", summary="One version's parameters")
def version(version_id: VersionPath, forecast: ForecastDep, _: ViewerDep) -> VersionPublic:
    return version_public(_version(forecast, version_id))


@router.get("/versions/{version_id}/cells", summary="Cells with components and P10/P50/P90")
def cells(
    version_id: VersionPath,
    forecast: ForecastDep,
    names: NamesDep,
    _: ViewerDep,
    by: ByQuery = "service_line,region,legal_entity",
    service_line: DimQuery = None,
    region: DimQuery = None,
    legal_entity: DimQuery = None,
) -> CellsPublic:
    info = _version(forecast, version_id)
    dims, filters = _by(by), _filters(service_line, region, legal_entity)
    rows = forecast.cells(version_id, dims, filters)
    scope = FIRM if not filters else (service_line if set(filters) == {"service_line"} else None)
    bands = forecast.bands(version_id, scope) if scope is not None else []
    return CellsPublic(
        version=version_public(info),
        by=dims,
        filters=filters,
        cells=[CellPublic.model_validate(names.add_names(r, DIM_KINDS)) for r in rows],
        band_scope=("firm" if scope == FIRM else scope) if bands else "none",
        bands=[BandPublic.model_validate(b) for b in bands],
    )


@router.get("/compare", summary="Versions (scenarios) side by side")
def compare(
    forecast: ForecastDep,
    names: NamesDep,
    _: ViewerDep,
    versions: Annotated[list[str], Query(min_length=1, max_length=8)],
    by: ByQuery = "service_line",
) -> ComparePublic:
    infos = [_version(forecast, v) for v in dict.fromkeys(versions)]
    ids, dims = [i.version_id for i in infos], _by(by)
    rows = forecast.compare(ids, dims)
    return ComparePublic(
        versions=[version_public(i) for i in infos],
        by=dims,
        rows=[
            CompareRow.model_validate(
                names.add_names(
                    {**{k: r[k] for k in ("month", *dims)}, "values": {v: r[v] for v in ids}},
                    DIM_KINDS,
                )
            )
            for r in rows
        ],
    )


def _split(source: str) -> tuple[str | None, str | None]:
    entity_type, sep, record_id = source.partition(":")
    return (entity_type, record_id) if sep and record_id else (None, None)


@router.get("/versions/{version_id}/drilldown", summary="The records behind one forecast cell")
def drilldown(
    version_id: VersionPath,
    forecast: ForecastDep,
    names: NamesDep,
    _: ViewerDep,
    month: Annotated[IsoDate, Query(description="Any day of the month.")],
    service_line: DimQuery = None,
    region: DimQuery = None,
    legal_entity: DimQuery = None,
    component: Annotated[Component | None, Query()] = None,
) -> DrilldownPublic:
    _version(forecast, version_id)
    first = month.replace(day=1)
    filters = _filters(service_line, region, legal_entity)
    rows = forecast.sources(version_id, first, filters, component.value if component else None)
    sources = []
    for r in rows:
        entity_type, record_id = _split(r["source"])
        link = None
        if entity_type and record_id:
            link = f"/api/v1/trace/{quote(entity_type, safe='')}/{quote(record_id, safe='')}"
        sources.append(
            SourcePublic.model_validate(
                names.add_names(
                    {**r, "entity_type": entity_type, "record_id": record_id, "trace_url": link},
                    DIM_KINDS,
                )
            )
        )
    return DrilldownPublic(
        version_id=version_id,
        month=first,
        filters=filters,
        component=component.value if component else None,
        total=sum((s.revenue for s in sources), Decimal("0.00")),
        sources=sources,
    )


@router.get(
    "/versions/{version_id}/pivot",
    summary="Month x service line: actuals, forecast, totals, previous version and delta",
)
def pivot(
    version_id: VersionPath,
    forecast: ForecastDep,
    names: NamesDep,
    _: ViewerDep,
    region: DimQuery = None,
    legal_entity: DimQuery = None,
    previous: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[0-9a-f]+$",
            description="Version to compare with (default: the one saved before, same scenario).",
        ),
    ] = None,
) -> PivotPublic:
    info = _version(forecast, version_id)
    before = (
        _version(forecast, previous) if previous else previous_version(forecast.versions(), info)
    )
    filters = _filters(None, region, legal_entity)
    return pivot_public(build_pivot(forecast, names, info, filters, before), filters)
