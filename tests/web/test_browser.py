"""The dashboard in Debian's Chromium (Playwright) against a real uvicorn server on loopback.

Logs in with an API key, runs a forecast, reads the plotly chart, drills from a forecast cell
(by the chart's click handler and by the table) to an opportunity's trace, and assigns and
resolves an exception. Each page is saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from api_env import ApiEnv, build_env

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiEnv, str]]:
    env = build_env(tmp_path_factory.mktemp("browser"))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield env, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    env.ctx.close()


@pytest.fixture(scope="module")
def page(served: tuple[ApiEnv, str]) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.console_errors = errors
        yield tab
        browser.close()


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_forecast_chart_and_drill_to_trace(served: tuple[ApiEnv, str], page: Any) -> None:
    env, base = served
    page.goto(f"{base}/ui/forecast")
    assert "/login" in page.url
    _shot(page, "login")
    page.fill("input[name=api_key]", env.keys["operator"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/forecast")
    page.fill("input[name=as_of]", "2026-06-15")
    page.check("input[name=known_now]")
    page.click("form.run button[type=submit]")
    page.wait_for_selector("#forecast-chart .main-svg")
    traces = page.evaluate("document.getElementById('forecast-chart').data.map(t => t.name)")
    assert {"scheduled backlog", "weighted pipeline", "P10-P90", "P50"} <= set(traces)
    bars = page.locator("#forecast-chart .barlayer .point").count()
    assert bars > 0
    _shot(page, "forecast")

    # The chart's click handler drills into the clicked cell (simulated plotly_click).
    page.evaluate(
        "document.getElementById('forecast-chart').emit('plotly_click',"
        " {points: [{customdata: ['2026-07-01', 'weighted_pipeline']}]})"
    )
    page.wait_for_url("**/cell?**")
    assert "Behind the number: July 2026" in page.inner_text("h1")
    assert page.locator("a.trace[data-source='Opportunity:opp-1']").count() == 1
    _shot(page, "forecast-cell")
    page.click("a.trace[data-source='Opportunity:opp-1']")
    page.wait_for_url("**/ui/trace/Opportunity/opp-1")
    assert page.inner_text("h1") == "Trace: Opportunity opp-1"
    assert page.locator("section.node").count() >= 1
    _shot(page, "trace")

    # The same path through the filtered table, to a deal with a project and invoices.
    page.goto(f"{base}/ui/forecast?service_line=sl-data")
    page.wait_for_selector("#forecast-chart .main-svg")
    page.locator("td:not([data-value='0.00']) > a.drill").first.click()
    page.wait_for_url("**/cell?**")
    page.locator("a.trace").first.click()
    page.wait_for_url("**/ui/trace/**")
    assert page.locator("section.node").count() >= 4
    assert page.console_errors == []


def test_exception_assign_and_resolve(served: tuple[ApiEnv, str], page: Any) -> None:
    env, base = served
    exc_id = env.exception_ids["invalid_tax_code"]
    page.goto(f"{base}/ui/exceptions")
    row = page.locator(f"#exc-{exc_id}")
    row.locator("input[name=owner]").fill("tax-team")
    row.locator("button", has_text="Assign").click()
    page.wait_for_selector(".flash")
    assert "is now assigned" in page.inner_text(".flash")
    assert page.locator(f"#exc-{exc_id} .owner").inner_text() == "tax-team"
    _shot(page, "exceptions-assigned")
    row = page.locator(f"#exc-{exc_id}")
    row.locator("input[name=note]").fill("tax code added in NetSuite")
    row.locator("button", has_text="Resolve").click()
    page.wait_for_selector(".flash")
    assert "is now resolved" in page.inner_text(".flash")
    assert page.locator(f"#exc-{exc_id}").count() == 0
    found = env.ctx.exceptions.get(exc_id)
    assert found is not None and found.state == "resolved" and found.owner == "tax-team"
    # The injected markup in another exception's message is shown as text, not run.
    assert "<script>alert(1)</script>" in page.inner_text("table.inbox")
    _shot(page, "exceptions")


def test_other_pages_render(served: tuple[ApiEnv, str], page: Any) -> None:
    _, base = served
    for name in ("kpis", "health", "compare"):
        page.goto(f"{base}/ui/{name}")
        page.wait_for_load_state("networkidle")
        _shot(page, name)
    page.goto(f"{base}/ui/kpis")
    page.wait_for_load_state("networkidle")
    sparks = page.locator(".spark").count()
    assert page.locator(".spark .plot-container").count() == sparks  # each trend drawn
    assert page.locator(".trend-note").count() + sparks == 4
    assert page.locator("section.card").count() == 4
    assert page.console_errors == []
