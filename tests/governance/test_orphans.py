"""Line items whose deal is blocked wait for it and are nested once the deal is fixed.

The demo's `orphan_line_item` exceptions are of this kind: one per deal blocked by its own
exception (a free-text category the crosswalk lacks), never one per line, and they clear
themselves when the deal is replayed after the crosswalk is extended. Lines read before a deal
that is fine are nested as soon as it arrives.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from pssync.config.exceptions import RoutingConfig
from pssync.config.settings import default_system_of_record
from pssync.engine.pipeline import PagePipeline, source_record
from pssync.engine.runtime import Runtime
from pssync.governance import stages
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.routing import Router
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.model import parse_record
from pssync.runtime import govern
from pssync.store import Change, GoldenStore

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _mapping(categories: dict[str, str]) -> MappingSpec:
    return MappingSpec.model_validate(
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
                },
                "OpportunityLineItem": {
                    "entity": "OpportunityLineItem",
                    "fields": {
                        "opportunity_id": {"from": "OpportunityId", "write": False},
                        "hours": {"from": "Quantity", "as": "decimal"},
                        "rate": {"money": {"amount": "UnitPrice", "currency_const": "USD"}},
                    },
                },
            },
            "crosswalks": {"service_line": categories},
        }
    )


@pytest.fixture
def runtime(store: GoldenStore) -> Iterator[Runtime]:
    rt = Runtime(
        store=store,
        exceptions=ExceptionStore(store.engine, Router(RoutingConfig())),
        translators={"crm": Translator(_mapping({"Cloud": "sl-cloud"}))},
        roles={"crm": "crm"},
        policy=OwnershipPolicy(default_system_of_record()),
        routes=[],
    )
    govern(rt)
    store.write([Change(parse_record("Account", {"id": "acc-1", "name": "Coho"}), AT, "import")])
    yield rt
    stages.forget()


DEAL = {
    "AccountId": "acc-1",
    "Name": "Coho cloud move",
    "StageName": "Proposal",
    "Probability": 60,
    "Amount": 1000,
    "CloseDate": "2026-09-30",
}
LINES = [
    ("00k1", {"OpportunityId": "006A", "Quantity": 10, "UnitPrice": 50}),
    ("00k2", {"OpportunityId": "006A", "Quantity": 10, "UnitPrice": 50}),
]


def ingest(rt: Runtime, obj: str, rows: list[tuple[str, dict[str, Any]]], tag: str = "") -> str:
    stamp = dt.datetime.now(dt.UTC).isoformat()
    page = [source_record(rid, data, stamp, tag=tag or None) for rid, data in rows]
    return PagePipeline(rt, "crm", obj).run(page).decisions[-1].status.value


def deal_lines(rt: Runtime) -> list[Any]:
    (deal,) = [v.payload for v in rt.store.iter_records("Opportunity")]
    return list(deal.get("line_items") or [])


def test_lines_of_a_blocked_deal_wait_in_one_exception_and_nest_after_the_fix(
    runtime: Runtime,
) -> None:
    assert ingest(runtime, "Opportunity", [("006A", {**DEAL, "Category": "cloud mig."})]) == (
        "rejected"
    )
    assert ingest(runtime, "OpportunityLineItem", LINES) == "rejected"
    (orphan,) = runtime.exceptions.find(category="orphan_line_item")
    assert orphan.details["parent"] == "006A" and orphan.details["lines"] == 2
    assert len(runtime.exceptions.find(category="unmapped_value")) == 1  # the deal's own

    # The crosswalk is extended and the deal replayed (what `exceptions replay` does).
    runtime.translators["crm"] = Translator(_mapping({"cloud mig.": "sl-cloud"}))
    replayed = ingest(runtime, "Opportunity", [("006A", {**DEAL, "Category": "cloud mig."})], "r1")
    assert replayed == "applied"
    assert len(deal_lines(runtime)) == 2
    again = runtime.exceptions.get(orphan.id)
    assert again is not None and again.state == "resolved"


def test_lines_read_before_a_good_deal_are_nested_when_it_arrives(runtime: Runtime) -> None:
    assert ingest(runtime, "OpportunityLineItem", LINES) == "rejected"
    assert ingest(runtime, "Opportunity", [("006A", {**DEAL, "Category": "Cloud"})]) == "applied"
    assert len(deal_lines(runtime)) == 2
    assert not runtime.exceptions.find(states=["open"], category="orphan_line_item")


def test_a_page_refusing_a_record_twice_keeps_its_later_version_to_replay(
    runtime: Runtime,
) -> None:
    stamp = dt.datetime.now(dt.UTC)
    page = [
        source_record("006A", {**DEAL, "Category": "cloud mig.", "Name": name}, at.isoformat())
        for name, at in (("old", stamp), ("new", stamp + dt.timedelta(seconds=1)))
    ]
    result = PagePipeline(runtime, "crm", "Opportunity").run(page)
    assert [d.status.value for d in result.decisions] == ["rejected", "rejected"]
    (refused,) = runtime.exceptions.find(category="unmapped_value")
    assert json.loads(refused.payload or "{}")["record"]["data"]["Name"] == "new"
