"""The policy per check (pssync.yaml's `checks:`): a stale deal is accepted with a flag by
default, held on its exception (out of the golden data, its value counted as held back) with
`hold`, refused outright with `reject`; an unmapped value is held by default and rejected with
`reject`. `accept` is refused for a check whose record has no valid form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from pssync.cli.config_check import check
from pssync.config import ConfigError, load_settings
from pssync.config.settings import default_system_of_record
from pssync.engine.pipeline import PagePipeline, source_record
from pssync.engine.runtime import Runtime
from pssync.forecast.held_back import held_back
from pssync.governance import stages
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.routing import Router, RoutingConfig
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.model import parse_record
from pssync.runtime import build_runtime, govern
from pssync.runtime.held_back import held_back_now
from pssync.store import Change, GoldenStore

DEALS = MappingSpec.model_validate(
    {
        "system": "crm",
        "objects": {
            "Opportunity": {
                "entity": "Opportunity",
                "fields": {
                    "account_id": "AccountId",
                    "name": "Name",
                    "stage": "StageName",
                    "probability": {"from": "Probability", "as": "decimal"},
                    "amount": {"money": {"amount": "Amount", "currency_const": "USD"}},
                    "close_date": {"from": "CloseDate", "as": "date"},
                    "service_line_id": {"from": "Category", "crosswalk": "service_line"},
                },
            }
        },
        "crosswalks": {"service_line": {"Cloud": "sl-cloud"}},
    }
)
LONG_AGO = (dt.date.today() - dt.timedelta(days=200)).isoformat()
STALE = {
    "AccountId": "acc-1",
    "Name": "Coho stale",
    "StageName": "Proposal",
    "Probability": 50,
    "Amount": 1000,
    "CloseDate": LONG_AGO,
    "Category": "Cloud",
}


@pytest.fixture
def make(store: GoldenStore) -> Iterator[Any]:
    def build(modes: dict[str, str] | None) -> Runtime:
        rt = Runtime(
            store=store,
            exceptions=ExceptionStore(store.engine, Router(RoutingConfig())),
            translators={"crm": Translator(DEALS)},
            roles={"crm": "crm"},
            policy=OwnershipPolicy(default_system_of_record()),
            routes=[],
        )
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        store.write([Change(parse_record("Account", {"id": "acc-1", "name": "Coho"}), at, "test")])
        return govern(rt, modes)

    yield build
    stages.forget()


def ingest(rt: Runtime, rid: str, data: dict[str, Any]) -> str:
    stamp = dt.datetime.now(dt.UTC).isoformat()
    page = [source_record(rid, data, stamp)]
    return PagePipeline(rt, "crm", "Opportunity").run(page).decisions[-1].status.value


def deals(store: GoldenStore) -> list[str]:
    return sorted(v.payload["name"] for v in store.iter_records("Opportunity"))


def test_a_stale_deal_is_accepted_with_a_flag_by_default(make: Any, store: GoldenStore) -> None:
    rt = make(None)
    status = ingest(rt, "006A", STALE)
    assert status == "applied", [(e.category, e.message) for e in rt.exceptions.find()]
    (flagged,) = rt.exceptions.find(category="stale_stage")
    assert flagged.details["stage"] == "govern" and flagged.payload is None
    assert deals(store) == ["Coho stale"]
    assert held_back_now(store, None) == []  # it is in the forecast, not held back


def test_hold_keeps_the_stale_deal_out_but_visible(make: Any, store: GoldenStore) -> None:
    rt = make({"stale_stage": "hold"})
    assert ingest(rt, "006A", STALE) == "rejected"
    (held,) = rt.exceptions.find(category="stale_stage")
    assert held.details["stage"] == "ingest" and held.payload is not None
    assert deals(store) == []
    (line,) = held_back(rt.exceptions.find(), {"crm": Translator(DEALS)})
    assert (line.category, line.deals, line.open_amount) == ("stale_stage", 1, Decimal(1000))
    assert line.weighted == Decimal(500)


def test_reject_refuses_outright_and_keeps_nothing_to_replay(make: Any, store: GoldenStore) -> None:
    rt = make({"stale_stage": "reject", "unmapped_value": "reject"})
    assert ingest(rt, "006A", STALE) == "rejected"
    assert ingest(rt, "006B", {**STALE, "CloseDate": "2099-01-31", "Category": "Clowd"}) == (
        "rejected"
    )
    for category in ("stale_stage", "unmapped_value"):
        (refused,) = rt.exceptions.find(category=category)
        assert refused.payload is None and refused.details["policy"] == "reject"
    assert deals(store) == []


def test_unmapped_value_is_held_by_default(make: Any, store: GoldenStore) -> None:
    rt = make(None)
    assert ingest(rt, "006B", {**STALE, "CloseDate": "2099-01-31", "Category": "Clowd"}) == (
        "rejected"
    )
    (held,) = rt.exceptions.find(category="unmapped_value")
    assert held.payload is not None


def test_accept_is_refused_where_the_record_has_no_valid_form(tmp_path: Path) -> None:
    path = tmp_path / "pssync.yaml"
    path.write_text(yaml.safe_dump({"checks": {"unmapped_value": "accept", "stale": "hold"}}))
    settings = load_settings(path)
    found = {p.key: p.problem for p in check(settings, path)}
    assert "hold or reject" in found["checks.unmapped_value"]
    assert "no such check" in found["checks.stale"]
    with pytest.raises(ConfigError):
        build_runtime(settings)
    path.write_text(yaml.safe_dump({"checks": {"stale_stage": "sometimes"}}))
    with pytest.raises(ConfigError):
        load_settings(path)
