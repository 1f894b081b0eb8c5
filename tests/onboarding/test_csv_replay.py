"""Replaying a CSV row's exception after its fix: the row imports, or — when the row has a
second problem — this exception closes and the other is raised on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from pssync.governance.exceptions import ExceptionStore
from pssync.governance.replay import ReplayContext, replay
from pssync.onboarding import csv_mapping
from pssync.onboarding.csv_import import CsvImporter, read_rows
from pssync.store import GoldenStore, open_engine

DEALS = (
    "opportunity_id,product,account,deal_stage,close_date,close_value,probability\n"
    "D1,GTXPro,Acme,Engaging,2027-01-31,100,40\n"
    "D2,GTXPro,,Engaging,2027-01-31,100,40\n"
)


def test_replay_after_the_crosswalk_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path}/pssync.db"
    (tmp_path / "pssync.yaml").write_text(
        f"database_url: {url}\ncrosswalks:\n  service_line: {{GTX Pro: sl-gtx}}\n"
    )
    store = GoldenStore(open_engine(url))
    exceptions = ExceptionStore(store.engine)
    (tmp_path / "accounts.csv").write_text("account\nAcme\n")
    (tmp_path / "deals.csv").write_text(DEALS)
    for entity, name in (("Account", "accounts.csv"), ("Opportunity", "deals.csv")):
        headers, rows = read_rows(tmp_path / name)
        spec = csv_mapping.spec_from(entity, csv_mapping.guess(entity, headers), headers)
        spec.crosswalks["service_line"] = {"GTX Pro": "sl-gtx"} if entity != "Account" else {}
        spec.apply_default_currency("USD")
        CsvImporter(store, exceptions, spec, entity).run(rows, name)
    held = sorted(exceptions.find(category="unmapped_value"), key=lambda e: str(e.source_id))
    assert [e.source_id for e in held] == ["D1", "D2"]
    still = replay(ReplayContext(store, exceptions), held[0])
    assert still.state == "open" and "did you mean 'GTX Pro'" in still.message

    (tmp_path / "pssync.yaml").write_text(
        f"database_url: {url}\ncrosswalks:\n  service_line: {{GTX Pro: sl-gtx, GTXPro: sl-gtx}}\n"
    )
    ctx = ReplayContext(store, exceptions)
    targets = exceptions.find(category="unmapped_value", states=["open"])
    done = [replay(ctx, e) for e in sorted(targets, key=lambda e: str(e.source_id))]
    assert [e.state for e in done] == ["resolved", "resolved"]
    deal = store.get("Opportunity", "csv-opportunity-D1")
    assert deal is not None and deal.payload["service_line_id"] == "sl-gtx"
    # D2's value maps now; it waits for its account, a problem of its own.
    assert "missing_attribute" in (done[1].resolution or "")
    (waiting,) = exceptions.find(states=["open"])
    assert (waiting.category, waiting.source_id) == ("missing_attribute", "D2")
