"""The dashboard's surfaces in Debian's Chromium over a golden store synced from the sandbox.

`pssync demo` (shortened: two pages per object, one clock step) starts the six emulators,
syncs them through the engine into a golden store and stops them; the app then serves that
store, two forecast versions are saved a month apart, and the browser reads what a user
reads: the forecast pivot (names, totals equal to the API's, actuals, band, change against
the previous version), the KPI cards and integration health per system and object. The
screenshots go to test-artifacts/screenshots/; with PSSYNC_UPDATE_DOC_IMAGES=1 they also
replace docs/images/dashboard-*.png.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from pssync.api import create_app
from pssync.api.config import ApiSettings
from pssync.api.context import AppContext
from pssync.api.forecast_service import RunRequest
from pssync.api.keys import Role
from pssync.config import load_settings
from pssync.forecast.run import Scenario

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
# The documentation's screenshots are refreshed only when asked (PSSYNC_UPDATE_DOC_IMAGES=1),
# so a test run leaves the repository's files alone.
IMAGES = ROOT / "docs" / "images"
CLI = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]


@dataclass
class Served:
    ctx: AppContext
    base: str
    key: str
    db: Path

    def api(self, path: str) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.key}"}
        response = httpx.get(f"{self.base}{path}", headers=headers, timeout=60)
        response.raise_for_status()
        return response.json()

    def reference_ids(self, entity_type: str) -> dict[str, str]:
        """Record ID -> name of the current records of one reference type."""
        with sqlite3.connect(self.db) as con:
            rows = con.execute(
                "SELECT record_id, json_extract(payload, '$.name') FROM record_version "
                "WHERE entity_type = ? AND recorded_to IS NULL AND valid_to IS NULL",
                [entity_type],
            ).fetchall()
        return {str(i): str(n) for i, n in rows}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("synced")
    args = ["demo", "--no-serve", "--json", "--max-pages", "2", "--clock-steps", "1"]
    done = subprocess.run(
        [*CLI, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=400,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["systems"], "the demo synced no system"
    settings = load_settings(workdir / "pssync.yaml")
    app = create_app(
        settings, ApiSettings(analytics_path=settings.analytics_path, band_simulations=300)
    )
    ctx: AppContext = app.state.ctx
    key = ctx.keys.create("browser-operator", Role.OPERATOR)[1]
    today = dt.datetime.now(dt.UTC).date()
    for as_of in (today - dt.timedelta(days=30), today):  # two versions: a change to show
        ctx.forecast.run(
            RunRequest(as_of=as_of, scenario=Scenario("base"), lookback=3, known_now=True)
        )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield Served(ctx, f"http://127.0.0.1:{port}", key, workdir / "pssync.db")
    server.should_exit = True
    thread.join(timeout=10)
    ctx.close()


@pytest.fixture(scope="module")
def page(served: Served) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        tab.set_default_timeout(30_000)
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.console_errors = errors
        tab.goto(f"{served.base}/login")
        tab.fill("input[name=api_key]", served.key)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{served.base}/ui/forecast")
        yield tab
        browser.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"dashboard-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("PSSYNC_UPDATE_DOC_IMAGES") == "1":
        (IMAGES / shot.name).write_bytes(shot.read_bytes())


def _values(page: Any, selector: str) -> list[Decimal]:
    return [
        Decimal(v)
        for v in page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.value)")
    ]


def test_forecast_pivot_names_totals_band_and_change(served: Served, page: Any) -> None:
    page.goto(f"{served.base}/ui/forecast")
    page.wait_for_selector("#forecast-chart .main-svg")
    traces = page.evaluate("document.getElementById('forecast-chart').data.map(t => t.name)")
    assert {"actuals", "P10-P90", "P50"} <= set(traces), traces
    version = served.api("/api/v1/forecast/versions")[-1]["version_id"]

    # Names, not IDs: every service line row is named, and no reference ID is visible text.
    lines = served.reference_ids("ServiceLine")
    heads = page.locator("table.pivot tbody th.rowhead").all_inner_texts()
    assert heads and all(h.strip() in set(lines.values()) | {"No service line"} for h in heads)
    visible = page.inner_text("main")
    for kind in ("ServiceLine", "Region", "LegalEntity"):
        for record_id in served.reference_ids(kind):
            assert record_id not in visible, f"{kind} ID {record_id} shown instead of its name"

    # The pivot's totals are the API's cell sums, to the cent.
    cells = served.api(f"/api/v1/forecast/versions/{version}/cells?by=service_line")["cells"]
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    by_line: dict[str, Decimal] = defaultdict(Decimal)
    for cell in cells:
        by_month[cell["month"]] += Decimal(cell["revenue"])
        by_line[cell["service_line"] or ""] += Decimal(cell["revenue"])
    months = page.eval_on_selector_all(
        "table.pivot tfoot tr.totals td[data-month]", "els => els.map(e => e.dataset.month)"
    )
    columns = _values(page, "table.pivot tfoot tr.totals td[data-month]")
    assert dict(zip(months, columns, strict=True)) == {m: by_month[m] for m in months}
    assert set(by_month) <= set(months)
    for row in page.locator("table.pivot tbody tr").all():
        line = row.get_attribute("data-service-line") or ""
        parts = [
            Decimal(v)
            for v in row.locator("td[data-month]").evaluate_all(
                "els => els.map(e => e.dataset.value)"
            )
        ]
        total = Decimal(row.locator("td.total").get_attribute("data-value") or "")
        assert sum(parts) == total == by_line[line], line
    grand = Decimal(page.locator("tfoot tr.totals td.total").get_attribute("data-value") or "")
    assert grand == sum(by_month.values()) == sum(by_line.values())

    # Actuals beside the forecast, the band per month, the previous version and the change.
    assert page.locator("table.pivot thead th.past").count() >= 3  # lookback months
    assert page.locator("table.pivot tfoot tr.band td").count() > 0
    assert "Previous version" in page.inner_text("table.pivot tfoot")
    assert "compared with" in page.inner_text("p.summary")
    _shot(page, "forecast")

    # Every cell still opens the records behind it.
    page.locator("table.pivot tbody td:not([data-value='0.00']) > a.drill").first.click()
    page.wait_for_url("**/cell?**")
    assert "Behind the number" in page.inner_text("h1")
    assert page.locator("a.trace").count() > 0
    cell_total = Decimal(page.locator(".cell-total").get_attribute("data-value") or "")
    assert cell_total != 0
    assert page.console_errors == []


def test_kpi_cards_read_as_sentences(served: Served, page: Any) -> None:
    page.goto(f"{served.base}/ui/kpis")
    page.wait_for_load_state("networkidle")
    cards = page.locator("section.card")
    assert cards.count() == 4
    titles = page.locator("section.card h2").all_inner_texts()
    assert "Project-code SLA" in titles and "Project Code Sla" not in titles
    for text in cards.all_inner_texts():
        assert "None" not in text and "n/a" not in text and "null" not in text, text
        assert ("%" in text or "days" in text) or "not enough data yet: needs" in text.lower()
    api = served.api("/api/v1/kpis/cards")["cards"]
    for card in api:
        shown = page.inner_text(f"#kpi-{card['key']}")
        assert card["definition"] in shown
        assert (card["display"] or "No value yet") in shown
    _shot(page, "kpis")
    assert page.console_errors == []


def test_integration_health_per_system_and_object(served: Served, page: Any) -> None:
    page.goto(f"{served.base}/ui/health")
    with sqlite3.connect(served.db) as con:
        captured = con.execute(
            "SELECT system, object, sum(status = 'applied') FROM engine_inbox GROUP BY 1, 2"
        ).fetchall()
    assert len(captured) > 10
    for system, obj, applied in captured:
        row = page.locator(f"section[data-system='{system}'] tr[data-object='{obj}']")
        assert row.count() == 1, (system, obj)
        cells = row.locator("td").all_inner_texts()
        lag, per_minute, error_rate, last = cells[2], cells[3], cells[4], cells[8]
        assert lag != "-" and "UTC" in last and "ago" in last, cells
        assert float(per_minute) == pytest.approx(applied / 60, abs=0.051), cells
        assert error_rate.endswith("%"), cells
    rejected = page.locator("section[data-system='salesforce'] tr[data-object='Opportunity']")
    assert rejected.locator("td").nth(4).inner_text() != "0%"  # the firm's planted bad deals
    _shot(page, "health")
    assert page.console_errors == []
