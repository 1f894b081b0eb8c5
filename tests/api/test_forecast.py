"""Forecast over HTTP: runs, versions, cells with bands and filters, scenarios, drill-down."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from api_env import ApiEnv
from fastapi.testclient import TestClient

RUN = {"as_of": "2026-06-15", "known_now": True, "horizon": 6}


def _run(client: TestClient, env: ApiEnv, **scenario: Any) -> str:
    body = {**RUN, "scenario": {"name": "base", **scenario}}
    r = client.post("/api/v1/forecast/runs", json=body, headers=env.auth("operator"))
    assert r.status_code == 201, r.text
    return str(r.json()["version_id"])


@pytest.fixture
def version(env: ApiEnv, client: TestClient) -> str:
    return _run(client, env)


def test_run_is_listed_with_its_parameters(env: ApiEnv, client: TestClient, version: str) -> None:
    listed = client.get("/api/v1/forecast/versions", headers=env.auth("viewer")).json()
    assert [v["version_id"] for v in listed] == [version]
    one = client.get(f"/api/v1/forecast/versions/{version}", headers=env.auth("viewer")).json()
    assert one["as_of"] == "2026-06-15" and one["horizon"] == 6 and one["currency"] == "USD"
    assert (
        client.get("/api/v1/forecast/versions/abc123", headers=env.auth("viewer")).status_code
        == 404
    )


def test_cells_have_components_margin_and_a_band(
    env: ApiEnv, client: TestClient, version: str
) -> None:
    body = client.get(
        f"/api/v1/forecast/versions/{version}/cells", headers=env.auth("viewer")
    ).json()
    cells = body["cells"]
    assert {c["component"] for c in cells} >= {"scheduled_backlog", "weighted_pipeline"}
    for c in cells:
        assert Decimal(c["revenue"]) - Decimal(c["cost"]) == Decimal(c["margin"])
        assert c["service_line"] and {"region", "legal_entity"} <= set(c)
    assert body["band_scope"] == "firm" and len(body["bands"]) == 6
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for c in cells:
        by_month[c["month"]] += Decimal(c["revenue"])
    for band in body["bands"]:
        assert Decimal(band["p10"]) <= Decimal(band["p50"]) <= Decimal(band["p90"])
    # July holds a 20% deal: the band must be wider than a point there.
    july = next(b for b in body["bands"] if b["month"] == "2026-07-01")
    assert Decimal(july["p90"]) > Decimal(july["p10"])
    # June holds actuals and backlog still to deliver: a band around the forecast, not a point
    june = body["bands"][0]
    assert Decimal(june["p10"]) < by_month["2026-06-01"] < Decimal(june["p90"])


def test_filters_and_band_scope(env: ApiEnv, client: TestClient, version: str) -> None:
    h, url = env.auth("viewer"), f"/api/v1/forecast/versions/{version}/cells"
    erp = client.get(url, params={"service_line": "sl-erp", "by": "service_line"}, headers=h).json()
    assert erp["band_scope"] == "sl-erp" and erp["bands"]
    assert {c["service_line"] for c in erp["cells"]} == {"sl-erp"}
    region = client.get(url, params={"region": "reg-na"}, headers=h).json()
    assert region["band_scope"] == "none" and region["bands"] == []
    assert client.get(url, params={"by": "colour"}, headers=h).status_code == 422


def test_drilldown_adds_up_to_the_cell_and_links_to_traces(
    env: ApiEnv, client: TestClient, version: str
) -> None:
    h = env.auth("viewer")
    cells = client.get(
        f"/api/v1/forecast/versions/{version}/cells", params={"by": "service_line"}, headers=h
    ).json()["cells"]
    for cell in cells[:8]:
        params = {
            "month": cell["month"],
            "service_line": cell["service_line"],
            "component": cell["component"],
        }
        drill = client.get(
            f"/api/v1/forecast/versions/{version}/drilldown", params=params, headers=h
        ).json()
        assert Decimal(drill["total"]) == Decimal(cell["revenue"]), params
        for source in drill["sources"]:
            if source["trace_url"]:
                assert client.get(source["trace_url"], headers=h).status_code == 200
    july = client.get(
        f"/api/v1/forecast/versions/{version}/drilldown",
        params={"month": "2026-07-20", "component": "weighted_pipeline"},
        headers=h,
    ).json()
    assert "Opportunity:opp-1" in [s["source"] for s in july["sources"]]


def test_scenarios_compare_side_by_side(env: ApiEnv, client: TestClient, version: str) -> None:
    none_won = _run(client, env, name="no pipeline", probability_multiplier="0")
    r = client.get(
        "/api/v1/forecast/compare",
        params={"versions": [version, none_won]},
        headers=env.auth("viewer"),
    )
    body = r.json()
    assert [v["scenario"] for v in body["versions"]] == ["base", "no pipeline"]
    totals = {
        v: sum(Decimal(row["values"][v]) for row in body["rows"]) for v in (version, none_won)
    }
    assert totals[none_won] < totals[version]
    erp_july = next(
        row
        for row in body["rows"]
        if row["month"] == "2026-07-01" and row["service_line"] == "sl-erp"
    )
    assert Decimal(erp_july["values"][none_won]) == 0 < Decimal(erp_july["values"][version])
    assert (
        client.get(
            "/api/v1/forecast/compare", params={"versions": "nope"}, headers=env.auth("viewer")
        ).status_code
        == 404
    )


def test_kpis_and_trend(env: ApiEnv, client: TestClient) -> None:
    h = env.auth("viewer")
    kpis = client.get("/api/v1/kpis", headers=h).json()
    assert kpis["values"]["conversion_time"]["won"] >= 1
    trend = client.get("/api/v1/kpis/trend", params={"months": 3}, headers=h).json()
    assert len(trend["as_of"]) == 3 and set(trend["series"]) == {
        "conversion_time",
        "project_code_sla",
        "start_variance",
        "milestone_adherence",
    }
    assert all(len(v) == 3 for v in trend["series"].values())
