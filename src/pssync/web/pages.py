"""Dashboard pages that read: the forecast pivot with its band, drill-down, scenarios, KPI
cards, integration health and the record trace. Each renders server-side from the same read
models the API serves (`api.pivot`, `api.kpi_cards`, `api.integration`), with names for IDs
(`api.names`), so the page and `/api/v1` can never disagree."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from pssync.api import health
from pssync.api import trace as tracing
from pssync.api.context import AppContext
from pssync.api.names import KINDS, Names, NamesDep
from pssync.api.pivot import build_pivot, previous_version
from pssync.api.routes import kpis as kpi_routes
from pssync.api.routes.connectors import integration_health
from pssync.api.security import get_ctx
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
    names: NamesDep,
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
        everything = ctx.forecast.cells(vid, ["service_line", "region"], {})
        cells = ctx.forecast.cells(vid, ["service_line", "region"], filters)
        before = previous_version(versions, chosen)
        pivot = build_pivot(ctx.forecast, names, chosen, filters, before)
        bands = [{"month": m, **vars(b)} for m, b in sorted(pivot.bands.items())]
        context.update(
            pivot=pivot,
            figure=charts.forecast_figure(cells, bands),
            service_lines=_options(names, "service_line", {c["service_line"] for c in everything}),
            regions=_options(names, "region", {c["region"] for c in everything}),
            band_label=names.label("service_line", service_line) if service_line else None,
            region_label=names.label("region", region) if region else None,
        )
    return render(
        request,
        "forecast.html",
        user,
        filters=filters,
        today=dt.datetime.now(dt.UTC).date(),
        **context,
    )


def _options(names: Names, kind: str, ids: set[str | None]) -> list[tuple[str, str]]:
    """(ID, name) pairs for a filter's choices, by name."""
    found = [(i, names.label(kind, i)) for i in ids if i]
    return sorted(found, key=lambda pair: pair[1].lower())


@router.get("/forecast/{version_id}/cell", response_class=HTMLResponse)
def cell_page(
    request: Request,
    ctx: CtxDep,
    names: NamesDep,
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
        kind = entity_type.lower()
        row["record_name"] = names.name(kind, record_id) if kind in KINDS else None
    return render(
        request,
        "cell.html",
        user,
        version=info,
        month=month.replace(day=1),
        filters={k: (v, names.label(k, v)) for k, v in filters.items()},
        names=names,
        component=component,
        rows=rows,
        total=sum((r["revenue"] for r in rows), 0),
    )


def _label(info: VersionInfo) -> str:
    """A version as people tell versions apart: scenario, as-of date and when it was saved."""
    saved = info.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    return f"{info.scenario} as of {info.as_of} (saved {saved} UTC)"


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    ctx: CtxDep,
    names: NamesDep,
    user: UserDep,
    versions: Annotated[list[str] | None, Query(max_length=8)] = None,
) -> Response:
    available = ctx.forecast.versions()
    known = {v.version_id: v for v in available}
    chosen = [v for v in dict.fromkeys(versions or []) if v in known]
    if not chosen:
        chosen = [v.version_id for v in available[-2:]]
    rows = ctx.forecast.compare(chosen, ["service_line"]) if chosen else []
    labels = {v: _label(known[v]) for v in chosen}
    table = [
        {
            "month": r["month"],
            "service_line": r["service_line"],
            "service_line_name": names.label("service_line", r["service_line"]),
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
def kpis_page(
    request: Request,
    ctx: CtxDep,
    user: UserDep,
    months: Annotated[int, Query(ge=2, le=12)] = 6,
    sla_days: Annotated[int, Query(ge=0, le=365)] = 5,
) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    with ctx.forecast.mirror() as analytics:
        found = kpi_routes.cards(analytics, today, months, sla_days)
    cards = [
        {**card.model_dump(), "figure": charts.sparkline(card.trend, card.unit)}
        for card in found.cards
    ]
    return render(request, "kpis.html", user, cards=cards, as_of=today, months=months)


@router.get("/health", response_class=HTMLResponse)
def health_page(
    request: Request,
    ctx: CtxDep,
    user: UserDep,
    window_minutes: Annotated[int, Query(ge=1, le=10080)] = 60,
) -> Response:
    report = integration_health(ctx, window_minutes)
    systems = {row["system"]: row for row in health.collect(ctx.store, ctx.health_providers)}
    captured = {s.system: s for s in report.systems}
    return render(
        request,
        "health.html",
        user,
        report=report,
        systems=systems,
        captured=captured,
        names=sorted(set(systems) | set(captured)),
    )


@router.get("/trace/{entity_type}/{record_id}", response_class=HTMLResponse)
def trace_page(
    request: Request,
    ctx: CtxDep,
    names: NamesDep,
    user: UserDep,
    entity_type: str,
    record_id: str,
) -> Response:
    if entity_type not in ENTITY_TYPES or entity_type not in tracing.TRACEABLE:
        raise HTTPException(404, f"{entity_type} is not on a deal's path")
    try:
        result = tracing.trace(ctx.store, entity_type, record_id, tracing.AsOf())
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    return render(request, "trace.html", user, trace=result, names=names)
