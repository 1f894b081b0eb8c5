"""Identity resolution in the ingest pipeline: a CRM account and an ERP customer of one company
become one golden record when the evidence is certain, and only then.

Pages are handed to the pipeline directly, as change capture would hand them (no HTTP).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from pssync.config.exceptions import RoutingConfig
from pssync.config.settings import default_system_of_record
from pssync.engine.pipeline import PagePipeline, source_record
from pssync.engine.runtime import Runtime
from pssync.governance import identity, links, stages
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


def _mapping(system: str, ref: str) -> MappingSpec:
    """A customer object carrying the other system's ID (`ref` names that system or role)."""
    return MappingSpec.model_validate(
        {
            "system": system,
            "objects": {
                "customer": {
                    "entity": "Account",
                    "fields": {
                        "name": "Name",
                        "domain": "Website",
                        "tax_id": "TaxId",
                        f"xrefs.{ref}:Account": {"from": "OtherId", "write": False},
                    },
                }
            },
        }
    )


@pytest.fixture
def runtime(store: GoldenStore) -> Iterator[Runtime]:
    rt = Runtime(
        store=store,
        exceptions=ExceptionStore(store.engine, Router(RoutingConfig())),
        translators={
            "sfdc": Translator(_mapping("sfdc", "erp")),
            "ns": Translator(_mapping("ns", "crm")),
            "sap": Translator(_mapping("sap", "crm")),
        },
        roles={"sfdc": "crm", "ns": "erp", "sap": "erp"},
        policy=OwnershipPolicy(default_system_of_record()),
        routes=[],
    )
    yield govern(rt)
    stages.forget()


def ingest(rt: Runtime, system: str, rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One page of customers from `system`; the golden record ID of each row."""
    stamp = dt.datetime.now(dt.UTC).isoformat()
    page = [source_record(rid, data, stamp) for rid, data in rows]
    result = PagePipeline(rt, system, "customer").run(page)
    assert all(d.status.value == "applied" for d in result.decisions), result.decisions
    return [str(d.record_id) for d in result.decisions]


def accounts(rt: Runtime) -> dict[str, dict[str, Any]]:
    return {v.record_id: v.payload for v in rt.store.iter_records("Account")}


def identified(rt: Runtime) -> list[Any]:
    with rt.store.engine.connect() as conn:
        return list(conn.execute(select(audit_log).where(audit_log.c.action == "identified")))


COHO_CRM = {"Name": "Coho Energy", "Website": "https://cohoenergy.com", "OtherId": "NS-7"}
COHO_ERP = {
    "Name": "Coho Energy LLC",
    "Website": "https://cohoenergy.com",
    "TaxId": "US-99",
    "OtherId": "001A",
}


def test_identity_resolution_is_a_stage_of_every_governed_runtime(runtime: Runtime) -> None:
    assert runtime.stages.identify == [identity.resolve_identity, links.resolve_links]


def test_an_erp_customer_naming_its_crm_account_joins_its_golden_record(
    runtime: Runtime,
) -> None:
    (crm,) = ingest(runtime, "sfdc", [("001A", COHO_CRM)])
    (erp,) = ingest(runtime, "ns", [("NS-7", COHO_ERP)])
    assert erp == crm and len(accounts(runtime)) == 1
    record = accounts(runtime)[crm]
    assert record["xrefs"] == {"sfdc:customer": "001A", "ns:customer": "NS-7"}
    assert record["name"] == "Coho Energy"  # the CRM owns the name
    origin = runtime.store.provenance("Account", crm, "tax_id")
    assert origin is not None and origin["system"] == "ns"  # the ERP's write is on record
    assert origin["source_record"] == "ns:customer:NS-7"
    (entry,) = identified(runtime)
    assert entry.actor == "ns" and entry.record_id == crm
    assert json.loads(entry.changes)["rule"] == "explicit cross-reference"
    assert not runtime.exceptions.find(category="duplicate_customer")
    assert not runtime.exceptions.find(category="non_owner_write")  # only another spelling


def test_a_crm_account_naming_its_erp_customer_joins_it_the_other_way_round(
    runtime: Runtime,
) -> None:
    (erp,) = ingest(runtime, "ns", [("NS-7", {**COHO_ERP, "OtherId": None})])
    (crm,) = ingest(runtime, "sfdc", [("001A", COHO_CRM)])
    assert crm == erp and len(accounts(runtime)) == 1
    assert accounts(runtime)[crm]["name"] == "Coho Energy"
    assert not runtime.exceptions.find(category="duplicate_customer")


def test_a_second_customer_naming_the_same_account_is_a_duplicate_not_a_merge(
    runtime: Runtime,
) -> None:
    (crm,) = ingest(runtime, "sfdc", [("001A", COHO_CRM)])
    twin = {**COHO_ERP, "Name": "Coho Enregy LLC"}
    original, copy = ingest(runtime, "ns", [("NS-7", COHO_ERP), ("NS-8", twin)])
    assert original == crm and copy != crm  # one page: only the first is linked
    (flagged,) = runtime.exceptions.find(category="duplicate_customer")
    assert flagged.record_id == copy
    (candidate,) = flagged.details["candidates"]
    assert candidate["record_id"] == crm and candidate["score"] >= 0.85
    # In a later page too: the account already holds a customer of that ERP.
    (later,) = ingest(runtime, "ns", [("NS-9", {**twin, "Name": "Coho Energy Ltd"})])
    assert later not in (crm, copy)


def test_the_same_reference_in_another_erp_still_links(runtime: Runtime) -> None:
    (crm,) = ingest(runtime, "sfdc", [("001A", {**COHO_CRM, "OtherId": None})])
    (ns,) = ingest(runtime, "ns", [("NS-7", COHO_ERP)])
    (sap,) = ingest(runtime, "sap", [("1000001", COHO_ERP)])
    assert crm == ns == sap
    assert set(accounts(runtime)[crm]["xrefs"]) == {"sfdc:customer", "ns:customer", "sap:customer"}


def test_same_tax_id_and_name_link_a_different_name_does_not(runtime: Runtime) -> None:
    (crm,) = ingest(runtime, "sfdc", [("001A", {"Name": "Fabrikam GmbH", "TaxId": "DE 123"})])
    (same,) = ingest(runtime, "ns", [("NS-1", {"Name": "FABRIKAM", "TaxId": "de123"})])
    assert same == crm
    assert json.loads(identified(runtime)[0].changes)["rule"] == "same tax ID and name"
    (other,) = ingest(
        runtime, "sap", [("1000002", {"Name": "Fabrikam Mobility", "TaxId": "DE123"})]
    )
    assert other != crm  # probable at most: for the MDM team, with its score
    (flagged,) = runtime.exceptions.find(category="duplicate_customer")
    assert flagged.record_id == other


def test_no_evidence_mints_a_new_record(runtime: Runtime) -> None:
    runtime.store.write(
        [Change(parse_record("Account", {"id": "acc-1", "name": "Litware"}), AT, "import")]
    )
    (new,) = ingest(runtime, "ns", [("NS-5", {"Name": "Tailspin Toys", "OtherId": "nope"})])
    assert new != "acc-1" and len(accounts(runtime)) == 2
    assert not identified(runtime)
