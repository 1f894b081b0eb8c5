"""A deal read before its account keeps the CRM's account ID; once the account is applied the
deal is re-pointed to the canonical ID and gets its region, and the draft exceptions its missing
region raised clear themselves.

The account is blocked by an unknown tax code (what the firm plants), so the deal lands with a
vendor reference; extending the crosswalk and re-reading the account is the fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from pssync.config.exceptions import RoutingConfig
from pssync.config.settings import default_system_of_record
from pssync.engine.pipeline import PagePipeline, source_record
from pssync.engine.runtime import Runtime
from pssync.governance import handoff_checks, stages
from pssync.governance.exceptions import ExceptionStore, NewException
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.repoint import repoint_dangling
from pssync.governance.routing import Router
from pssync.governance.validation import HandoffValidator
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.model import parse_record
from pssync.runtime import govern
from pssync.store import Change, GoldenStore
from pssync.store.tables import dangling_reference


def _mapping(tax_codes: dict[str, str]) -> MappingSpec:
    return MappingSpec.model_validate(
        {
            "system": "crm",
            "objects": {
                "Account": {
                    "entity": "Account",
                    "fields": {
                        "name": "Name",
                        "region_id": {"from": "Region__c", "crosswalk": "region"},
                        "tax_code_id": {"from": "Tax_Code__c", "crosswalk": "tax_code"},
                    },
                },
                "Opportunity": {
                    "entity": "Opportunity",
                    "fields": {
                        "account_id": "AccountId",
                        "name": "Name",
                        "stage": "StageName",
                        "probability": {"from": "Probability", "as": "decimal"},
                        "amount": {"money": {"amount": "Amount", "currency_const": "USD"}},
                        "close_date": {"from": "CloseDate", "as": "date"},
                    },
                },
            },
            "crosswalks": {"region": {"NA": "reg-na"}, "tax_code": tax_codes},
        }
    )


@pytest.fixture
def runtime(store: GoldenStore) -> Iterator[Runtime]:
    rt = Runtime(
        store=store,
        exceptions=ExceptionStore(store.engine, Router(RoutingConfig())),
        translators={"crm": Translator(_mapping({"US-EX": "tax-us-ex"}))},
        roles={"crm": "crm"},
        policy=OwnershipPolicy(default_system_of_record()),
        routes=[],
    )
    govern(rt)
    region = parse_record("Region", {"id": "reg-na", "code": "NA", "name": "North America"})
    store.write([Change(region, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "import")])
    yield rt
    stages.forget()


ACCOUNT = {"Name": "Goldcrest Airlines", "Region__c": "NA", "Tax_Code__c": "US-EXEMPT"}
DEAL = {
    "AccountId": "001G",
    "Name": "Goldcrest cloud move",
    "StageName": "Proposal",
    "Probability": 60,
    "Amount": 1000,
    "CloseDate": "2027-03-31",
}


def ingest(rt: Runtime, obj: str, source_id: str, data: dict[str, Any], tag: str = "") -> str:
    stamp = dt.datetime.now(dt.UTC).isoformat()
    page = [source_record(source_id, data, stamp, tag=tag or None)]
    return PagePipeline(rt, "crm", obj).run(page).decisions[-1].status.value


def deal(rt: Runtime) -> dict[str, Any]:
    found = rt.store.resolve_xref("crm", "Opportunity", "006D")
    assert found is not None
    version = rt.store.get("Opportunity", found[1])
    assert version is not None
    return version.payload


def dangling(rt: Runtime) -> int:
    with rt.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(dangling_reference)).scalar_one())


def test_a_deal_is_repointed_once_its_blocked_account_is_fixed(runtime: Runtime) -> None:
    assert ingest(runtime, "Account", "001G", ACCOUNT) == "rejected"
    assert ingest(runtime, "Opportunity", "006D", DEAL) == "applied"
    assert deal(runtime)["account_id"] == "001G" and not deal(runtime).get("region_id")
    assert dangling(runtime) == 1
    assert ingest(runtime, "Opportunity", "006D", {**DEAL, "Amount": 1200}) == "applied"
    assert dangling(runtime) == 1  # noted once per holder and field
    assert repoint_dangling(runtime).record_ids == []  # the account is still unknown

    runtime.translators["crm"] = Translator(_mapping({"US-EXEMPT": "tax-us-ex"}))
    assert ingest(runtime, "Account", "001G", ACCOUNT, "fixed") == "applied"
    account = runtime.store.resolve_xref("crm", "Account", "001G")
    assert account is not None

    found = repoint_dangling(runtime)
    now = deal(runtime)
    assert now["account_id"] == account[1] and now["region_id"] == "reg-na"
    assert found.record_ids == [now["id"]]
    assert dangling(runtime) == 0
    # A governed write like any from the CRM: provenance names the source record.
    source = runtime.store.provenance("Opportunity", now["id"], "account_id")
    assert source is not None and source["system"] == "crm"
    assert source["source_record"] == "crm:Opportunity:006D"
    believed = [v for v in runtime.store.history("Opportunity", now["id"]) if not v.recorded_to]
    assert [v.payload["account_id"] for v in believed][-2:] == ["001G", account[1]]
    assert repoint_dangling(runtime).record_ids == []  # done once


def test_a_deal_read_after_its_account_notes_nothing(runtime: Runtime) -> None:
    runtime.translators["crm"] = Translator(_mapping({"US-EXEMPT": "tax-us-ex"}))
    assert ingest(runtime, "Account", "001G", ACCOUNT) == "applied"
    assert ingest(runtime, "Opportunity", "006D", DEAL) == "applied"
    assert deal(runtime)["region_id"] == "reg-na"
    assert dangling(runtime) == 0


def test_a_holder_fixed_by_its_own_source_drops_its_note(runtime: Runtime) -> None:
    assert ingest(runtime, "Opportunity", "006D", DEAL) == "applied"
    assert dangling(runtime) == 1
    runtime.translators["crm"] = Translator(_mapping({"US-EXEMPT": "tax-us-ex"}))
    assert ingest(runtime, "Account", "001G", ACCOUNT) == "applied"
    assert ingest(runtime, "Opportunity", "006D", {**DEAL, "Name": "Renamed"}) == "applied"
    assert repoint_dangling(runtime).record_ids == []  # the deal resolved it on its own
    assert dangling(runtime) == 0


def test_draft_exceptions_that_no_longer_hold_are_resolved(runtime: Runtime) -> None:
    assert ingest(runtime, "Opportunity", "006D", DEAL) == "applied"
    opp_id = deal(runtime)["id"]
    violations = HandoffValidator(runtime.store).opportunity_to_project(opp_id)
    assert ("missing_attribute", "region_id") in {(v.category, v.field) for v in violations}
    raised = [
        runtime.exceptions.raise_(
            NewException(
                category=v.category,
                message=v.message,
                entity_type=v.entity_type,
                record_id=v.record_id,
                details={"field": v.field, "stage": "draft", "opportunity_id": opp_id},
                payload=opp_id,
            )
        )
        for v in violations
    ]
    region = next(e for e in raised if e.details["field"] == "region_id")
    # The handoff's validation does not touch the draft's exceptions.
    assert handoff_checks.clear_passed(runtime, opp_id, "handoff", []) == []

    runtime.translators["crm"] = Translator(_mapping({"US-EXEMPT": "tax-us-ex"}))
    assert ingest(runtime, "Account", "001G", ACCOUNT) == "applied"
    assert len(repoint_dangling(runtime).record_ids) == 1
    still = HandoffValidator(runtime.store).opportunity_to_project(opp_id)
    cleared = handoff_checks.clear_passed(runtime, opp_id, "draft", still)
    assert cleared == [region.id]
    again = runtime.exceptions.get(region.id)
    assert again is not None and again.state == "resolved"
    others = [runtime.exceptions.get(e.id) for e in raised if e.id != region.id]
    assert others and all(e is not None and e.state == "open" for e in others)
