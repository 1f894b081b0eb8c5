"""The Salesforce side of the product path: emulator -> connector -> engine -> golden store.

Seeded with the small synthetic firm's CRM (a slice of its deals, their accounts, contacts,
products and line items), the engine captures every CRM object through the default mapping.
Then each deal the mapping can translate holds exactly its Salesforce line items in the golden
store, and every exception raised traces to a problem the firm planted (a free-text service
category missing from the crosswalk, and the lines held for that blocked deal): none comes from a
gap in pssync's own Salesforce mapping.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pssync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.runtime import DeliveryPolicy, Runtime, set_runtime
from pssync.engine.worker import start
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.spec import load_spec
from pssync.mapping.translator import Translator
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.salesforce import SalesforceEmulator
from pssync.store import GoldenStore, open_engine

pytestmark = pytest.mark.integration

MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/salesforce/mapping.yaml"
ORDER = ("Account", "Contact", "Opportunity", "OpportunityLineItem")  # the mapped objects
DEALS = 60


@functools.cache
def firm() -> Any:
    return generate_firm("small")


@functools.cache
def crm_slice() -> dict[str, list[dict[str, Any]]]:
    """The first DEALS deals (by Id) with what they reference; the whole firm takes minutes."""
    view = firm().views["salesforce"]
    deals = sorted(view["Opportunity"], key=lambda o: o["Id"])[:DEALS]
    ids = {o["Id"] for o in deals}
    accounts = {o["AccountId"] for o in deals}
    return {
        "User": view["User"],
        "Product2": view["Product2"],
        "Account": [a for a in view["Account"] if a["Id"] in accounts],
        "Contact": [c for c in view["Contact"] if c.get("AccountId") in accounts],
        "Opportunity": deals,
        "OpportunityLineItem": [
            line for line in view["OpportunityLineItem"] if line["OpportunityId"] in ids
        ],
    }


@dataclass
class Synced:
    store: GoldenStore
    exceptions: ExceptionStore


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    base = tmp_path_factory.mktemp("sf-path")
    url = f"sqlite:///{base}/pssync.db"
    store = GoldenStore(open_engine(url))
    exceptions = ExceptionStore(store.engine)
    with SalesforceEmulator(state_dir=base / "crm") as crm:
        assert isinstance(crm, SalesforceEmulator) and crm.tls is not None
        crm.seed(crm_slice())
        creds = crm.credentials()
        settings = SalesforceSettings.model_validate(
            {
                "base_url": creds["instance_url"],
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "ca_file": str(crm.tls.ca_file),
            }
        )
        runtime = Runtime(
            store=store,
            exceptions=exceptions,
            connectors={"crm": lambda: SalesforceConnector(settings)},
            translators={"crm": Translator(load_spec(MAPPING))},
            roles={"crm": "crm"},
            delivery=DeliveryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2),
        )
        start(runtime, url, polling_interval=0.05)
        try:
            for obj in ORDER:
                Poller(runtime, "crm", obj).run()
            yield Synced(store, exceptions)
        finally:
            dbos_app.shutdown()
            set_runtime(None)


def planted() -> dict[str, set[str]]:
    """Planted misalignment kinds by the Salesforce ID of the record they were planted on."""
    out: dict[str, set[str]] = {}
    for m in firm().misalignments:
        out.setdefault(m.record_id, set()).add(m.kind)
    return out


def test_every_translatable_deal_holds_its_line_items(synced: Synced) -> None:
    view = crm_slice()
    lines = Counter(line["OpportunityId"] for line in view["OpportunityLineItem"])
    stored = {
        v.payload["xrefs"].get("crm:Opportunity"): v.payload
        for v in synced.store.iter_records("Opportunity")
    }
    blocked = {e.source_id for e in synced.exceptions.find(category="unmapped_value")}
    for deal in view["Opportunity"]:
        if deal["Id"] in blocked:
            assert deal["Id"] not in stored
            continue
        payload = stored[deal["Id"]]
        assert len(payload.get("line_items") or []) == lines[deal["Id"]], deal["Id"]
    assert sum(len(p.get("line_items") or []) for p in stored.values()) > 0


def test_every_exception_traces_to_a_planted_problem(synced: Synced) -> None:
    """A crosswalk miss is the firm's free-text service category (on a deal) or its invalid
    tax code (on an account; governance names that category `invalid_tax_code` when its hooks
    are installed); an orphan line exception is one per deal so blocked that has lines."""
    found = Counter(e.category for e in synced.exceptions.find())
    assert set(found) <= {"unmapped_value", "orphan_line_item"}, found
    kinds = planted()
    expected = {"Opportunity": "free_text_service_category", "Account": "invalid_tax_code"}
    misses = synced.exceptions.find(category="unmapped_value")
    for exc in misses:
        assert exc.object in expected, exc
        assert expected[str(exc.object)] in kinds.get(str(exc.source_id), set()), exc
    with_lines = {line["OpportunityId"] for line in crm_slice()["OpportunityLineItem"]}
    blocked = {e.source_id for e in misses if e.object == "Opportunity"}
    held = {e.source_id for e in synced.exceptions.find(category="orphan_line_item")}
    assert held == blocked & with_lines
