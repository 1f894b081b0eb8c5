"""A CRM-only firm: the synthetic world of seed 3 with only what a CRM holds (accounts, deals and
the reference data), imported into a golden store as a firm's own history, with a pssync.yaml
naming only a Salesforce connector.

* No phantom backlog: won deals without contract lines are bookings, not revenue forecast again
  as pending ERP handoffs (issue 18: 10.0M re-forecast).
* `pssync forecast --bookings` gives the next quarter's closed-won value with its band, deals not
  yet created included (a created-and-won rate learned from the history).
* `pssync backtest --bookings` scores it against the value actually won; the revenue backtest
  says why it cannot run.
* `--known-now` reads the bulk-loaded history (recorded at load time) as known now, for
  `forecast`, `backtest` and `kpis`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.components import Component
from pssync.forecast.run import forecast_snapshot
from pssync.forecast.sales_pipeline import won_without_contract
from pssync.forecast.snapshot import load_snapshot
from pssync.sandbox.worlds import generate_world
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import import_lines

runner = CliRunner()
CRM_TYPES = {"Account", "Opportunity", "ServiceLine", "Region", "LegalEntity", "Role"}


@pytest.fixture(scope="module")
def firm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dt.date]]:
    base = tmp_path_factory.mktemp("crm-only")
    world = generate_world(3)
    lines = [ln for ln in world.truth_lines() if json.loads(ln)["entity_type"] in CRM_TYPES]
    url = f"sqlite:///{base / 'pssync.db'}"
    engine = open_engine(url)
    import_lines(GoldenStore(engine), lines, system="salesforce")
    engine.dispose()
    (base / "pssync.yaml").write_text(
        yaml.safe_dump(
            {
                "database_url": url,
                "analytics_path": str(base / "pssync.duckdb"),
                "connectors": {
                    "crm": {"type": "salesforce", "role": "crm", "base_url": "https://x.test"}
                },
            }
        )
    )
    yield base, world.today - dt.timedelta(days=1)


def cli(base: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.chdir(base)
    done = runner.invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_won_deals_without_contracts_are_not_forecast_again(
    firm: tuple[Path, dt.date], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, today = firm
    monkeypatch.chdir(base)
    analytics = AnalyticsStore(base / "pssync.duckdb")
    analytics.sync(GoldenStore(open_engine(f"sqlite:///{base / 'pssync.db'}")))
    snap = load_snapshot(analytics, today, analytics.high_water_mark)
    recent_wins = [o for o in snap.opportunities.values() if o.is_won]
    assert recent_wins  # the firm won deals in the last year, none with a contract line
    assert won_without_contract(snap) == []
    result = forecast_snapshot(snap)
    backlog = [
        c
        for c in result.revenue
        if c.component in (Component.UNSCHEDULED_BACKLOG, Component.SCHEDULED_BACKLOG)
    ]
    assert backlog == [], backlog[:3]
    analytics.close()


def test_bookings_forecast_and_backtest_run(
    firm: tuple[Path, dt.date], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, today = firm
    out = cli(
        base,
        monkeypatch,
        *("forecast", "--bookings", "--known-now", "--json", "--as-of", str(today)),
    )
    assert out["mode"].startswith("CRM-only")
    band = {k: Decimal(v) for k, v in out["band"].items()}
    assert band["p10"] <= band["mean"] <= band["p90"] and band["mean"] > 0
    new = out["not_yet_created"]
    assert len(new["quarters"]) == 4 and Decimal(new["per_quarter"]) > 0, new

    monkeypatch.chdir(base)
    refused = runner.invoke(app, ["backtest", "--known-now", "--realised", str(today)])
    assert refused.exit_code != 0 and "backtest --bookings" in refused.output

    scored = cli(
        base,
        monkeypatch,
        *("backtest", "--bookings", "--known-now", "--json", "--realised", str(today)),
    )
    assert scored["against"] == "closed-won value"
    points = scored["points"]
    assert len(points) == 4
    assert all(Decimal(p["actual_won"]) > 0 for p in points), points
    assert all(Decimal(p["p10"]) <= Decimal(p["expected"]) <= Decimal(p["p90"]) for p in points)


def test_kpis_take_known_now(firm: tuple[Path, dt.date], monkeypatch: pytest.MonkeyPatch) -> None:
    base, today = firm
    as_known = cli(base, monkeypatch, "kpis", "--json", "--as-of", str(today))
    known_now = cli(base, monkeypatch, "kpis", "--known-now", "--json", "--as-of", str(today))
    assert known_now["known"] == "now" and as_known["known"] == "at the as-of date"
    # The import recorded each version at its valid time: known now or then, the same wins
    # (and no project: a CRM-only firm converts none).
    assert known_now["conversion_time"] == as_known["conversion_time"]
    assert (
        known_now["conversion_time"]["won"] > 0 and known_now["conversion_time"]["converted"] == 0
    )
