"""Governance's stages as the ingest pipeline runs them (no HTTP: a page handed to the
pipeline directly, as change capture would hand it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from pssync.config.exceptions import RoutingConfig, RoutingRule
from pssync.config.settings import default_system_of_record
from pssync.engine.pipeline import PagePipeline, source_record
from pssync.engine.runtime import Runtime
from pssync.governance import handoff_checks, quality, stages
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.routing import Router
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.model import parse_record
from pssync.runtime import govern
from pssync.store import Change, GoldenStore
from pssync.store.tables import audit_log

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MAPPING = MappingSpec.model_validate(
    {
        "system": "crm",
        "objects": {
            "Account": {
                "entity": "Account",
                "fields": {
                    "name": "Name",
                    "domain": "Website",
                    "legal_entity_id": {"from": "LE", "crosswalk": "legal_entity"},
                    "tax_code_id": {"from": "Tax", "crosswalk": "tax_code"},
                },
            },
            "Contact": {
                "entity": "Contact",
                "fields": {"account_id": "AccountId", "last_name": "LastName"},
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
                    "is_closed": {"from": "IsClosed", "as": "bool", "default": False},
                    "delivery_start": {"from": "Delivery_Start__c", "as": "date"},
                },
            },
        },
        "crosswalks": {
            "legal_entity": {"US01": "le-us01"},
            "tax_code": {"US-EX": "tax-us-ex"},
        },
    }
)


@pytest.fixture
def runtime(store: GoldenStore) -> Iterator[Runtime]:
    routing = RoutingConfig(routing=[RoutingRule(category="invalid_tax_code", owner="tax-team")])
    rt = govern(
        Runtime(
            store=store,
            exceptions=ExceptionStore(store.engine, Router(routing)),
            translators={"crm": Translator(MAPPING), "erp": Translator(MAPPING)},
            roles={"crm": "crm", "erp": "erp"},
            policy=OwnershipPolicy(default_system_of_record()),
            routes=[],
        )
    )
    store.write(
        [
            Change(
                parse_record(
                    "Account",
                    {
                        "id": "acc-1",
                        "name": "Coho Energy",
                        "domain": "cohoenergy.com",
                        "legal_entity_id": "le-us01",
                        "xrefs": {"crm:Account": "A1", "erp:Account": "E9"},
                    },
                ),
                AT,
                "import",
            )
        ]
    )
    yield rt
    stages.forget()


def ingest(rt: Runtime, obj: str, rid: str, data: dict[str, Any], system: str = "crm") -> str:
    stamp = dt.datetime.now(dt.UTC).isoformat()
    result = PagePipeline(rt, system, obj).run([source_record(rid, data, stamp)])
    return result.decisions[0].status.value


def test_stages_belong_to_their_runtime_not_to_the_process(runtime: Runtime) -> None:
    checks = [getattr(c, "func", c) for c in runtime.stages.check]  # checks with their modes
    assert quality.account_checks in checks
    assert runtime.stages.crosswalk_categories["tax_code"] == "invalid_tax_code"
    bare = Runtime(store=runtime.store, exceptions=runtime.exceptions)
    assert not bare.stages.check and "tax_code" not in bare.stages.crosswalk_categories
    governed = [getattr(c, "func", c) for c in govern(bare).stages.check]
    assert governed.count(quality.account_checks) == 1


def test_vendor_references_resolve_to_canonical_ids(runtime: Runtime) -> None:
    assert ingest(runtime, "Contact", "C1", {"AccountId": "A1", "LastName": "Garcia"}) == "applied"
    (contact,) = list(runtime.store.iter_records("Contact"))
    assert contact.payload["account_id"] == "acc-1"


def test_a_crosswalk_miss_names_value_record_and_crosswalk(runtime: Runtime) -> None:
    assert ingest(runtime, "Account", "A2", {"Name": "Fabrikam", "Tax": "US-EXEMPT"}) == "rejected"
    (exc,) = runtime.exceptions.find(category="invalid_tax_code")
    assert exc.owner == "tax-team"  # the crosswalk's owner, from the routing rules
    assert exc.details["value"] == "US-EXEMPT" and exc.details["crosswalk"] == "tax_code"
    assert exc.source_id == "A2" and exc.details["field"] == "tax_code_id"
    assert "'US-EXEMPT'" in exc.message and "tax_code" in exc.message
    assert exc.payload is not None and "US-EXEMPT" in exc.payload  # what replay re-ingests


def test_a_non_owner_write_is_refused_audited_and_raised(runtime: Runtime) -> None:
    # The ERP's customer E9 is acc-1; the ERP renames it, but the CRM owns the account name.
    assert ingest(runtime, "Account", "E9", {"Name": "COHO POWER LLC"}, "erp") == "applied"
    after = runtime.store.get("Account", "acc-1")
    assert after is not None and after.payload["name"] == "Coho Energy"
    with runtime.store.engine.connect() as conn:
        refused = conn.execute(
            select(audit_log).where(
                audit_log.c.action == "refused", audit_log.c.record_id == "acc-1"
            )
        ).all()
    assert len(refused) == 1 and "owned by crm" in (refused[0].reason or "")
    assert refused[0].actor == "erp"
    (flagged,) = runtime.exceptions.find(category="non_owner_write")
    assert flagged.record_id == "acc-1" and flagged.details["attempted"] == "COHO POWER LLC"
    assert flagged.details["owner"] == "crm"


def test_another_spelling_of_the_name_is_refused_and_audited_not_raised(
    runtime: Runtime,
) -> None:
    # The ERP's legal spelling of the same company: the CRM's name stays, nobody must act.
    assert ingest(runtime, "Account", "E9", {"Name": "COHO ENERGY LLC"}, "erp") == "applied"
    after = runtime.store.get("Account", "acc-1")
    assert after is not None and after.payload["name"] == "Coho Energy"
    with runtime.store.engine.connect() as conn:
        refused = conn.execute(
            select(audit_log).where(
                audit_log.c.action == "refused", audit_log.c.record_id == "acc-1"
            )
        ).all()
    assert len(refused) == 1 and refused[0].actor == "erp"
    assert not runtime.exceptions.find(category="non_owner_write")


def test_the_owner_write_goes_through(runtime: Runtime) -> None:
    assert ingest(runtime, "Account", "A1", {"Name": "Coho Energy Inc", "LE": "US01"}) == "applied"
    after = runtime.store.get("Account", "acc-1")
    assert after is not None and after.payload["name"] == "Coho Energy Inc"
    assert not runtime.exceptions.find(category="non_owner_write")


def test_missing_legal_entity_is_flagged_and_clears_when_fixed(runtime: Runtime) -> None:
    assert ingest(runtime, "Account", "A3", {"Name": "Umbrella Health"}) == "applied"
    (flag,) = runtime.exceptions.find(category="missing_legal_entity", states=["open"])
    assert flag.source_id == "A3" and "Umbrella Health" in flag.message
    assert ingest(runtime, "Account", "A3", {"Name": "Umbrella Health", "LE": "US01"}) == "applied"
    assert not runtime.exceptions.find(category="missing_legal_entity", states=["open"])


def test_a_probable_duplicate_is_flagged_with_candidates_and_scores(runtime: Runtime) -> None:
    data = {"Name": "The Coho Energy Inc.", "Website": "www.cohoenergy.com", "LE": "US01"}
    assert ingest(runtime, "Account", "A4", data) == "applied"
    (flag,) = runtime.exceptions.find(category="duplicate_customer", states=["open"])
    (candidate,) = flag.details["candidates"]
    assert candidate["record_id"] == "acc-1" and candidate["score"] >= 0.85
    assert "same domain" in candidate["reasons"]
    # A distinct company is not flagged.
    assert (
        ingest(runtime, "Account", "A5", {"Name": "Northwind Traders", "LE": "US01"}) == "applied"
    )
    assert len(runtime.exceptions.find(category="duplicate_customer")) == 1


def test_block_duplicate_customer_lists_candidates(runtime: Runtime) -> None:
    twin = {"id": "acc-2", "name": "Coho Energy LLC", "domain": "cohoenergy.com"}
    found = handoff_checks.block_duplicate_customer(runtime, twin, "opp-1")
    assert [c["record_id"] for c in found] == ["acc-1"]
    (exc,) = runtime.exceptions.find(category="duplicate_customer")
    assert exc.record_id == "acc-2" and exc.details["stage"] == "handoff"
    assert "acc-1" in exc.message and "score" in exc.message
    assert (
        handoff_checks.block_duplicate_customer(
            runtime, {"id": "acc-3", "name": "Tailspin Toys"}, "o"
        )
        == []
    )


def test_a_stale_open_deal_is_flagged(runtime: Runtime) -> None:
    deal = {
        "AccountId": "A1",
        "Name": "Old Deal",
        "StageName": "Proposal",
        "Probability": "70",
        "Amount": "1000",
        "CloseDate": "2024-01-31",
    }
    assert ingest(runtime, "Opportunity", "O1", deal) == "applied"
    (flag,) = runtime.exceptions.find(category="stale_stage", states=["open"])
    assert flag.details["close_date"] == "2024-01-31" and flag.details["days_overdue"] > 60
    assert ingest(runtime, "Opportunity", "O1", {**deal, "CloseDate": "2099-01-31"}) == "applied"
    assert not runtime.exceptions.find(category="stale_stage", states=["open"])
