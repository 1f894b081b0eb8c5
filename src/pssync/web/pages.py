"""Dashboard pages that read: forecast with band and filters, drill-down, scenarios, KPIs,
integration health and the record trace. Each renders server-side from the same services the
API uses, so the page and `/api/v1` can never disagree."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from pssync.api import health
from pssync.api import trace as tracing
from pssync.api.context import AppContext
from pssync.api.forecast_service import FIRM
from pssync.api.routes.kpis import HEADLINES, kpi_values
from pssync.api.security import get_ctx
from pssync.forecast.periods import add_months, month_end, month_start
from pssync.forecast.versions import VersionInfo
from pssync.model import ENTITY_TYPES
from pssync.web import charts
from pssync.web.auth import UserDep
from pssync.web.templating import templates

router = APIRouter(prefix="/ui", include_in_schema=False)
CtxDep = Annotated[AppContext, Depends(get_ctx)]
Dim = Annotated[str | None, Query(max_length=200)]


def render(request: Request, name: str, user: Any, **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {"user": user, **context})


def _pick(versions: list[VersionInfo], wanted: str | None) -> VersionInfo | None:
    if wanted:
        found = [v for v in versions if v.version_id == wanted]
        if not found:
            raise HTTPException(404, f"no forecast version {wanted}")
        return found[0]
    return versions[-1] if versions else None


@router.get("/forecast", response_class=HTMLResponse)
def forecast_page(
    request: Request,
    ctx: CtxDep,
    user: UserDep,
    version: Annotated[str | None, Query(max_length=32)] = None,
    service_line: Dim = None,
    region: Dim = None,
) -> Response:
    versions = ctx.forecast.versions()
    chosen = _pick(versions, version)
    context: dict[str, Any] = {"versions": versions, "chosen": chosen, "figure": None}
    filters = {k: v for k, v in {"service_line": service_line, "region": region}.items() if v}
    if chosen is not None:
        vid = chosen.version_id
        all_cells = ctx.forecast.cells(vid, ["service_line", "region"], {})
        cells = ctx.forecast.cells(vid, ["service_line", "region"], filters)
        scope = FIRM if not filters else service_line if set(filters) == {"service_line"} else None
        bands = ctx.forecast.bands(vid, scope) if scope is not None else []
        context.update(
            cells=cells,
            bands=bands,
            figure=charts.forecast_figure(cells, bands),
            service_lines=sorted({c["service_line"] for c in all_cells if c["service_line"]}),
            regions=sorted({c["region"] for c in all_cells if c["region"]}),
            total=sum((c["revenue"] for c in cells), 0),
        )
    return render(
        request,
        "forecast.html",
        user,
        filters=filters,
        today=dt.datetime.now(dt.UTC).date(),
        **context,
    )


@router.get("/forecast/{version_id}/cell", response_class=HTMLResponse)
def cell_page(
    request: Request,
    ctx: CtxDep,
    user: UserDep,
    version_id: str,
    month: dt.date,
    service_line: Dim = None,
    region: Dim = None,
    component: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    try:
        info = ctx.forecast.version(version_id)
    except KeyError:
        raise HTTPException(404, f"no forecast version {version_id}") from None
    filters = {k: v for k, v in {"service_line": service_line, "region": region}.items() if v}
    rows = ctx.forecast.sources(version_id, month.replace(day=1), filters, component)
    for row in rows:
        entity_type, _, record_id = row["source"].partition(":")
        row["entity_type"], row["record_id"] = entity_type, record_id or None
    return render(
        request,
        "cell.html",
        user,
        version=info,
        month=month.replace(day=1),
        filters=filters,
        component=component,
        rows=rows,
        total=sum((r["revenue"] for r in rows), 0),
    )


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    ctx: CtxDep,
    user: UserDep,
    versions: Annotated[list[str] | None, Query(max_length=8)] = None,
) -> Response:
    available = ctx.forecast.versions()
    known = {v.version_id: v for v in available}
    chosen = [v for v in dict.fromkeys(versions or []) if v in known]
    if not chosen:
        chosen = [v.version_id for v in available[-2:]]
    rows = ctx.forecast.compare(chosen, ["service_line"]) if chosen else []
    labels = {v: f"{known[v].scenario} ({known[v].as_of}, {v[:6]})" for v in chosen}
    table = [
        {
            "month": r["month"],
            "service_line": r["service_line"],
            "values": {v: r[v] for v in chosen},
        }
        for r in rows
    ]
    figure = charts.compare_figure(table, labels) if chosen else None
    return render(
        request,
        "compare.html",
        user,
        available=available,
        chosen=chosen,
        labels=labels,
        rows=table,
        figure=figure,
    )


@router.get("/kpis", response_class=HTMLResponse)
def kpis_page(request: Request, ctx: CtxDep, user: UserDep, months: int = 6) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    months = max(1, min(months, 24))
    dates = [month_end(add_months(month_start(today), -i)) for i in range(months - 1, 0, -1)]
    dates.append(today)
    with ctx.forecast.mirror() as analytics:
        history = [kpi_values(analytics, d, 5) for d in dates]
    tiles = []
    for name, key in HEADLINES.items():
        series = [h[name].get(key) for h in history]
        tiles.append(
            {
                "name": name.replace("_", " "),
                "key": key.replace("_", " "),
                "value": series[-1],
                "details": history[-1][name],
                "figure": charts.sparkline(
                    dates, [None if v is None else float(v) for v in series]
                ),
            }
        )
    return render(request, "kpis.html", user, tiles=tiles, as_of=today)


@router.get("/health", response_class=HTMLResponse)
def health_page(request: Request, ctx: CtxDep, user: UserDep) -> Response:
    rows = health.collect(ctx.store, ctx.health_providers)
    return render(request, "health.html", user, rows=rows)


@router.get("/trace/{entity_type}/{record_id}", response_class=HTMLResponse)
def trace_page(
    request: Request, ctx: CtxDep, user: UserDep, entity_type: str, record_id: str
) -> Response:
    if entity_type not in ENTITY_TYPES or entity_type not in tracing.TRACEABLE:
        raise HTTPException(404, f"{entity_type} is not on a deal's path")
    try:
        result = tracing.trace(ctx.store, entity_type, record_id, tracing.AsOf())
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    return render(request, "trace.html", user, trace=result)
