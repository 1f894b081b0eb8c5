"""The surfaces' read models over HTTP: names beside IDs, the forecast pivot, KPI cards and
integration health per system and object (engine tables filled as a sync would)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from api_env import ApiEnv, build_env
from fastapi.testclient import TestClient

from pssync.api import integration
from pssync.api.kpi_cards import format_value
from pssync.engine.tables import engine_cursor, engine_delivery, engine_inbox, engine_last_applied
from pssync.governance.exceptions import NewException

RUN = {"as_of": "2026-06-15", "known_now": True, "horizon": 6, "lookback": 2}


def _run(client: TestClient, env: ApiEnv, multiplier: str = "1") -> str:
    body = {**RUN, "scenario": {"name": "base", "probability_multiplier": multiplier}}
    r = client.post("/api/v1/forecast/runs", json=body, headers=env.auth("operator"))
    assert r.status_code == 201, r.text
    return str(r.json()["version_id"])


def test_cells_and_drilldown_carry_names_beside_ids(env: ApiEnv, client: TestClient) -> None:
    version = _run(client, env)
    cells = client.get(
        f"/api/v1/forecast/versions/{version}/cells", headers=env.auth("viewer")
    ).json()["cells"]
    names = {c["service_line"]: c["service_line_name"] for c in cells}
    assert names["sl-erp"] == "ERP Implementation" and names["sl-data"] == "Data & Analytics"
    assert {c["region_name"] for c in cells if c["region"] == "reg-na"} == {"North America"}
    drill = client.get(
        f"/api/v1/forecast/versions/{version}/drilldown",
        params={"month": "2026-07-01", "service_line": "sl-data"},
        headers=env.auth("viewer"),
    ).json()
    assert drill["sources"] and all(
        s["service_line_name"] == "Data & Analytics" for s in drill["sources"]
    )


def test_pivot_reconciles_and_compares_with_the_previous_version(
    env: ApiEnv, client: TestClient
) -> None:
    first = _run(client, env)
    second = _run(client, env, multiplier="0.5")  # same scenario name: the previous is `first`
    pivot = client.get(
        f"/api/v1/forecast/versions/{second}/pivot", headers=env.auth("viewer")
    ).json()
    assert pivot["previous_version"]["version_id"] == first
    cells = client.get(
        f"/api/v1/forecast/versions/{second}/cells?by=service_line", headers=env.auth("viewer")
    ).json()["cells"]
    expected: dict[tuple[str | None, str], Decimal] = defaultdict(Decimal)
    for c in cells:
        expected[(c["service_line"], c["month"])] += Decimal(c["revenue"])
    grand = Decimal(0)
    for row in pivot["rows"]:
        assert row["service_line_name"] and row["service_line_name"] != row["service_line"]
        for cell in row["cells"]:
            total = Decimal(cell["total"])
            assert total == expected[(row["service_line"], cell["month"])]
            assert Decimal(cell["actuals"]) + Decimal(cell["forecast"]) == total
            assert Decimal(cell["delta"]) == total - Decimal(cell["previous"])
        assert Decimal(row["total"]["total"]) == sum(Decimal(c["total"]) for c in row["cells"])
        grand += Decimal(row["total"]["total"])
    assert Decimal(pivot["total"]["total"]) == grand == sum(expected.values())
    columns = {c["month"]: Decimal(c["total"]) for c in pivot["columns"]}
    assert sum(columns.values()) == grand
    assert Decimal(pivot["total"]["delta"]) < 0  # half the pipeline probability: less revenue
    assert pivot["band_scope"] == "firm" and len(pivot["bands"]) == len(pivot["months"])


def test_kpi_cards_say_what_they_need_instead_of_none(env: ApiEnv, client: TestClient) -> None:
    body = client.get("/api/v1/kpis/cards?as_of=2026-06-30", headers=env.auth("viewer")).json()
    cards = {c["key"]: c for c in body["cards"]}
    assert cards["project_code_sla"]["title"] == "Project-code SLA"
    for card in cards.values():
        assert card["definition"]
        if card["value"] is None:
            assert card["display"] is None and card["needs"].startswith("not enough data yet")
        else:
            assert card["display"] == format_value(card["value"], card["unit"])
            assert card["needs"] is None
    assert format_value(0.8333, "percent") == "83%"
    assert format_value(12.0, "days") == "12 days" and format_value(1.0, "days") == "1 day"
    due = int(cards["project_code_sla"]["population"].split()[0])
    assert cards["project_code_sla"]["population"] == f"{due} deal{'' if due == 1 else 's'} due"


def _fill_engine_tables(env: ApiEnv, now: dt.datetime) -> None:
    """What two polls and one delivery leave in the engine's tables."""
    recent, old = now - dt.timedelta(minutes=10), now - dt.timedelta(hours=3)
    inbox: list[dict[str, Any]] = []
    for i in range(30):
        status = "rejected" if i < 3 else "applied"
        inbox.append(_event("salesforce", "Opportunity", f"006{i}", status, recent))
    inbox += [_event("netsuite", "invoice", f"inv{i}", "applied", old) for i in range(5)]
    stamp = (now - dt.timedelta(minutes=25)).astimezone(dt.timezone(dt.timedelta(hours=-5)))
    with env.ctx.store.engine.begin() as conn:
        conn.execute(engine_inbox.insert(), inbox)
        conn.execute(
            engine_last_applied.insert(),
            [
                {
                    "system": "salesforce",
                    "object": "Opportunity",
                    "source_id": "0061",
                    "version": f"{stamp.isoformat()}#abc",
                    "applied_at": recent,
                },
                {
                    "system": "salesforce",
                    "object": "Opportunity",
                    "source_id": "0062",
                    "version": "2026-01-01T00:00:00+00:00#def",
                    "applied_at": recent,
                },
            ],
        )
        conn.execute(
            engine_cursor.insert(),
            [{"system": "netsuite", "object": "invoice#deletes", "cursor": "x", "updated_at": now}],
        )
        conn.execute(
            engine_delivery.insert(),
            [
                {
                    "system": "kantata",
                    "object": "workspaces",
                    "external_id": "p-1",
                    "target_id": "41",
                    "entity_type": "Project",
                    "record_id": "p-1",
                    "content_hash": "h",
                    "payload": "{}",
                    "written_at": recent,
                }
            ],
        )
    env.ctx.exceptions.raise_(
        NewException(
            category=integration.DEAD_LETTER_CATEGORIES[0],
            message="kantata workspaces p-1: 422",
            system="kantata",
            object="workspaces",
            source_id="p-1",
        )
    )


def _event(system: str, obj: str, source: str, status: str, at: dt.datetime) -> dict[str, Any]:
    key = f"{system}:{obj}:{source}"
    return {
        "event_key": key,
        "system": system,
        "object": obj,
        "source_id": source,
        "version": f"{at.isoformat()}#00",
        "status": status,
        "received_at": at,
    }


def test_health_per_system_and_object(env: ApiEnv, client: TestClient) -> None:
    now = dt.datetime.now(dt.UTC)
    _fill_engine_tables(env, now)
    body = client.get("/api/v1/connectors/health/objects", headers=env.auth("viewer")).json()
    systems = {s["system"]: s for s in body["systems"]}
    rows = {(o["system"], o["object"]): o for s in body["systems"] for o in s["objects"]}
    opp = rows[("salesforce", "Opportunity")]
    assert opp["applied"] == 27 and opp["decided"] == 30 and opp["rejected"] == 3
    assert opp["per_minute"] == 27 / 60 and opp["error_rate"] == 0.1
    assert 24 * 60 < opp["lag_seconds"] < 26 * 60  # the newest stamp, across offsets
    assert opp["status"] == "attention"
    invoice = rows[("netsuite", "invoice")]  # out of the window; its delete feed ran now
    assert invoice["applied"] == 0 and invoice["error_rate"] is None
    assert dt.datetime.fromisoformat(invoice["last_success_at"]) >= now - dt.timedelta(seconds=1)
    workspaces = rows[("kantata", "workspaces")]
    assert workspaces["written"] == 1 and workspaces["dead_letters"] == 1
    assert workspaces["status"] == "error" and systems["kantata"]["status"] == "error"
    page = client.get(
        "/api/v1/connectors/health/objects?window_minutes=240", headers=env.auth("viewer")
    )
    wide = {(o["system"], o["object"]): o for s in page.json()["systems"] for o in s["objects"]}
    assert wide[("netsuite", "invoice")]["applied"] == 5


def test_dead_letter_categories_match_the_engine() -> None:
    from pssync.engine.dead_letter import CATEGORIES

    assert tuple(CATEGORIES) == integration.DEAD_LETTER_CATEGORIES


def test_names_pivot_and_health_on_each_backend(db_url: str, tmp_path: Path) -> None:
    """The name lookup (a JSON path per dialect) and the engine-table reads on SQLite and
    PostgreSQL."""
    env = build_env(tmp_path, database_url=db_url)
    try:
        with TestClient(env.app) as client:
            version = _run(client, env)
            pivot = client.get(
                f"/api/v1/forecast/versions/{version}/pivot", headers=env.auth("viewer")
            ).json()
            assert "ERP Implementation" in {r["service_line_name"] for r in pivot["rows"]}
            _fill_engine_tables(env, dt.datetime.now(dt.UTC))
            body = client.get(
                "/api/v1/connectors/health/objects", headers=env.auth("viewer")
            ).json()
            rows = {(o["system"], o["object"]): o for s in body["systems"] for o in s["objects"]}
            assert rows[("salesforce", "Opportunity")]["error_rate"] == 0.1
            assert rows[("netsuite", "invoice")]["last_success_at"] is not None
    finally:
        env.ctx.close()


def test_exceptions_carry_the_name_of_their_record(env: ApiEnv, client: TestClient) -> None:
    listed = client.get("/api/v1/exceptions", headers=env.auth("viewer")).json()
    tax = next(e for e in listed if e["id"] == env.exception_ids["invalid_tax_code"])
    assert tax["record_id"] == "acc-1" and tax["record_name"] == "Northwind Traders"
    one = client.get(f"/api/v1/exceptions/{tax['id']}", headers=env.auth("viewer")).json()
    assert one["record_name"] == "Northwind Traders"
    dup = client.get(
        f"/api/v1/exceptions/{env.exception_ids['invalid_record']}", headers=env.auth("viewer")
    ).json()
    assert dup["record_name"] is None  # a rejected import line has no record yet
