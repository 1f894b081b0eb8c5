"""A forecast as of a past date on a synced store equals the one on the truth, and never looks
ahead.

Product path: the small firm's CRM in the Salesforce emulator -> `pssync sync` in a process of
its own (the first sync backfills each deal's history from OpportunityHistory) -> the golden
store, with the firm's reference data loaded as an installation's initial load would (recorded
now) -> the analytics mirror. The same deals' truth is loaded with `load_truth` (each version
recorded at its valid time). No `--known-now`: the as-of read is valid-and-known at T, where a
record pssync first recorded after T reads as what the source said then (`known_filter`).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from pssync.config import load_settings
from pssync.connectors.salesforce import SalesforceConnector
from pssync.demo.config import _connector
from pssync.engine.setup import connector_factory
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.backtest import backtest
from pssync.forecast.bulkload import load_truth
from pssync.forecast.components import Component
from pssync.forecast.run import run_forecast
from pssync.model import parse_record
from pssync.sandbox.up import Sandbox
from pssync.store import Change, GoldenStore, open_engine

pytestmark = pytest.mark.integration

PSSYNC = str(Path(sys.executable).parent / "pssync")
PAST = (dt.date(2025, 3, 31), dt.date(2025, 12, 31), dt.date(2026, 4, 30))
# The components an Opportunity drives (open deals, and won deals not yet contracted).
DEAL_COMPONENTS = (Component.WEIGHTED_PIPELINE, Component.UNSCHEDULED_BACKLOG)


@dataclass
class Env:
    sandbox: Sandbox
    config: Path
    store: GoldenStore
    truth: AnalyticsStore

    def cli(self, *args: str) -> str:
        """Run `pssync ARGS` in a process of its own, as a user would, in the directory of
        the installation's `pssync.yaml` (which the forecast commands read from there)."""
        done = subprocess.run(
            [PSSYNC, *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=self.config.parent,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def sync(self) -> None:
        self.cli("sync", "--system", "salesforce", "--json", "--config", str(self.config))

    def mirror(self) -> AnalyticsStore:
        analytics = AnalyticsStore()
        analytics.sync(self.store)
        return analytics


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("synced-history")
    sandbox = Sandbox.start_all("small", 0, state_dir=base / "state", systems=("salesforce",))
    engine = None
    try:
        config = {
            "database_url": f"sqlite:///{base / 'pssync.db'}",
            "analytics_path": str(base / "pssync.duckdb"),
            "connectors": {
                "salesforce": _connector("salesforce", sandbox.describe()["salesforce"])
            },
        }
        path = base / "pssync.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        engine = open_engine(config["database_url"])
        env = Env(sandbox, path, GoldenStore(engine), AnalyticsStore())
        env.sync()
        lines = list(sandbox.firm.truth_lines())
        facts = [json.loads(line) for line in lines]
        reference = [f for f in facts if f["system"] == "reference"]
        env.store.write(
            [
                Change(
                    parse_record(f["entity_type"], f["payload"]),
                    dt.datetime.fromisoformat(f["valid_from"]),
                    "reference",
                )
                for f in reference
            ]
        )
        synced = {_sf(v.payload) for v in env.store.iter_records("Opportunity")}
        load_truth(
            env.truth,
            [
                line
                for line, f in zip(lines, facts, strict=True)
                if f["system"] == "reference"
                or (f["entity_type"] == "Opportunity" and _sf(f["payload"]) in synced)
            ],
        )
        yield env
    finally:
        if engine is not None:
            engine.dispose()
        sandbox.stop()


def _sf(payload: dict[str, Any]) -> str | None:
    xrefs: dict[str, str] = payload.get("xrefs", {})
    return xrefs.get("salesforce:Opportunity")


def test_deal_components_as_of_past_dates_equal_the_truth(env: Env) -> None:
    synced = env.mirror()
    for as_of in PAST:
        ours, truth = run_forecast(synced, as_of), run_forecast(env.truth, as_of)
        assert ours.total(Component.WEIGHTED_PIPELINE) > 0, as_of  # not "nothing known"
        for component in DEAL_COMPONENTS:
            assert ours.total(component) == truth.total(component), (as_of, component)
        assert ours.by_month() == truth.by_month(), as_of


def test_pssync_forecast_as_of_a_past_date_needs_no_flag(env: Env) -> None:
    as_of = PAST[1]
    out = json.loads(
        env.cli("forecast", "--as-of", str(as_of), "--no-save", "--no-learn", "--json")
    )
    ours: dict[str, Decimal] = defaultdict(Decimal)
    for cell in out["cells"]:
        ours[cell["component"]] += Decimal(str(cell["revenue"]))
    truth = run_forecast(env.truth, as_of, horizon=12, lookback=0)
    assert ours[Component.WEIGHTED_PIPELINE.value] > 0
    for component in DEAL_COMPONENTS:
        assert ours[component.value] == truth.total(component), component


def test_a_backtest_on_the_synced_store_sees_what_the_truth_sees(env: Env) -> None:
    synced = env.mirror()
    dates = [dt.date(2025, 6, 30), dt.date(2025, 9, 30), dt.date(2025, 12, 31)]
    kwargs: dict[str, Any] = {"realised_as_of": dt.date(2026, 3, 31)}
    ours = {(p.method, p.as_of, p.month, p.service_line): p.forecast for p in
            backtest(synced, dates, **kwargs)}  # fmt: skip
    truth = {(p.method, p.as_of, p.month, p.service_line): p.forecast for p in
             backtest(env.truth, dates, **kwargs)}  # fmt: skip
    assert any(ours.values())
    assert ours == truth


def test_a_change_after_t_changes_nothing_as_of_t(env: Env) -> None:
    """Sales moves an open deal today; the next sync records it valid from Salesforce's stamp
    (the sandbox's today), so every forecast as of a past date is unchanged, and the forecast
    as of that day sees it."""
    mirror = env.mirror()
    before = {d: run_forecast(mirror, d) for d in PAST}
    deal = next(
        v
        for v in env.store.iter_records("Opportunity")
        if not v.payload["is_closed"] and v.payload.get("service_line_id")
    )
    connector = connector_factory(load_settings(env.config).connectors["salesforce"])()
    assert isinstance(connector, SalesforceConnector)
    try:
        amount = str(int(float(deal.payload["amount"]["amount"]) * 3))
        sf_id = _sf(deal.payload)
        connector.call(lambda sf: sf.Opportunity.update(sf_id, {"Amount": amount}))
    finally:
        connector.close()
    env.sync()
    changed = env.store.get("Opportunity", deal.record_id)
    assert changed is not None and changed.payload["amount"] != deal.payload["amount"]
    assert changed.valid_from > deal.valid_from and changed.valid_from.date() > max(PAST)
    today = changed.valid_from.date()
    earlier = run_forecast(mirror, today).total(Component.WEIGHTED_PIPELINE)
    mirror = env.mirror()
    for as_of in PAST:
        now = run_forecast(mirror, as_of)
        for component in DEAL_COMPONENTS:
            assert now.total(component) == before[as_of].total(component), (as_of, component)
    assert run_forecast(mirror, today).total(Component.WEIGHTED_PIPELINE) > earlier
