"""The business flows end to end: real Salesforce, Kantata and NetSuite emulators, the real
connectors and mappings, DBOS workflows through the engine, on a trimmed copy of the `small`
synthetic firm.

One emulator set and one DBOS launch per test module (`flow_env`, module scope). The golden
store starts as an installation's would after its initial load: the firm's canonical history
(reference data, accounts, deals with their line items, people and bookings) — without the
worked example's PSA draft, which the flows must create, and without the commercial facts the
CRM will supply on capture (an account's legal entity and tax code, the deal's delivery start).
The CRM holds only the records these tests need, so a capture takes seconds.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.config.exceptions import RoutingConfig, RoutingRule
from pssync.config.settings import default_system_of_record
from pssync.connectors.filedrop import FileDropConnector, FileDropSettings
from pssync.connectors.kantata import KantataConnector, KantataSettings
from pssync.connectors.netsuite import NetSuiteConnector, NetSuiteSettings
from pssync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.runtime import DeliveryPolicy, Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.flows.runner import configure, dispatch, wait
from pssync.governance import stages
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.routing import Router
from pssync.mapping.spec import MappingSpec, load_spec
from pssync.mapping.translator import Translator
from pssync.runtime import govern
from pssync.sandbox.filedrop import FileDropEmulator
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.kantata import KantataEmulator
from pssync.sandbox.netsuite import NetSuiteEmulator
from pssync.sandbox.salesforce import SalesforceEmulator
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import import_lines

pytestmark = pytest.mark.integration

CONNECTORS = Path(__file__).parents[2] / "src/pssync/connectors"
WORKED, ARCHITECT, WORKSPACE = "opp-worked-example", "opp-architect-programme", "prj-worked-example"
FAST = DeliveryPolicy(max_attempts=6, base_delay=0.02, max_delay=0.5, breaker_threshold=50)
# Who owns what, as an installation's `exceptions.routing` would say it.
OWNERS = {
    "unmapped_value": "deal-desk",
    "missing_legal_entity": "deal-desk",
    "invalid_tax_code": "tax-team",
    "duplicate_customer": "mdm-team",
    "stale_stage": "sales-ops",
    "resource_conflict": "resource-managers",
    "missing_attribute": "billing-team",
    "non_owner_write": "data-governance",
}
FLOWS = {
    "opportunity_to_project": {"stages": ["Proposal", "Negotiation"], "min_probability": 50},
    "closed_won_handoff": {"sla_days": 5},
    "resource_feedback": {},
    "financial_actuals": {},
}


@functools.cache
def firm() -> Any:
    return generate_firm("small")


@functools.cache
def _truth() -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for line in firm().truth_lines():
        obj = json.loads(line)
        out[(obj["entity_type"], obj["payload"]["id"])] = obj["payload"]
    return out


def sf_id(entity_type: str, record_id: str) -> str:
    return str(_truth()[(entity_type, record_id)]["xrefs"][f"salesforce:{entity_type}"])


def chosen_deals() -> set[str]:
    """Salesforce IDs of the deals kept: the worked example and its blocker, every planted
    deal-level misalignment, a few free-text categories, and deals to move through stages."""
    f = firm()
    keep = {sf_id("Opportunity", WORKED), sf_id("Opportunity", ARCHITECT)}
    deal_level = [m for m in f.misalignments if m.object == "Opportunity"]
    keep |= {m.record_id for m in deal_level if m.kind != "free_text_service_category"}
    free_text = sorted(m.record_id for m in deal_level if m.kind == "free_text_service_category")
    keep |= set(free_text[:3])
    truth = _truth()
    for m in f.misalignments:
        if m.object == "workspaces":  # the deals behind PSA/CRM date mismatches
            project = next(
                p
                for (t, _), p in truth.items()
                if t == "Project" and p["xrefs"].get("kantata:workspaces") == m.record_id
            )
            keep.add(sf_id("Opportunity", project["opportunity_id"]))
    opps = f.views["salesforce"]["Opportunity"]
    keep |= {o["Id"] for o in opps if o["StageName"] in ("Solution Design", "Qualification")}
    return keep


def chosen_accounts(deals: set[str]) -> set[str]:
    f = firm()
    opps = f.views["salesforce"]["Opportunity"]
    keep = {o["AccountId"] for o in opps if o["Id"] in deals}
    keep |= {m.record_id for m in f.misalignments if m.object == "Account"}
    for pair in f.duplicate_pairs:
        if pair.system == "salesforce":
            keep |= {pair.record_id_a, pair.record_id_b}
    # The ERP's customers, whose actuals flow back to their CRM accounts.
    truth = _truth()
    keep |= {
        str(a["xrefs"]["salesforce:Account"])
        for (t, _), a in truth.items()
        if t == "Account"
        and "netsuite:customer" in a["xrefs"]
        and "salesforce:Account" in a["xrefs"]
    }
    return keep


def salesforce_view(only: set[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The CRM the tests read: the chosen deals, or `only` these deals (and their accounts)."""
    view = copy.deepcopy(firm().views["salesforce"])
    deals = chosen_deals() if only is None else only
    if only is None:
        accounts = chosen_accounts(deals)
    else:
        accounts = {o["AccountId"] for o in view["Opportunity"] if o["Id"] in deals}
    view["Account"] = [r for r in view["Account"] if r["Id"] in accounts]
    view["Contact"] = [r for r in view["Contact"] if r["AccountId"] in accounts]
    view["Opportunity"] = [r for r in view["Opportunity"] if r["Id"] in deals]
    for name in ("OpportunityLineItem", "OpportunityHistory"):
        view[name] = [r for r in view[name] if r["OpportunityId"] in deals]
    return view


def kantata_view(only: set[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The PSA's projects for the deals the CRM holds, without the worked example's draft (the
    flow creates it) and without the time entries and invoices these tests do not read."""
    view = copy.deepcopy(firm().views["kantata"])
    deals = chosen_deals() if only is None else only
    workspaces = {
        str(p["xrefs"]["kantata:workspaces"])
        for (t, pid), p in _truth().items()
        if t == "Project"
        and pid != WORKSPACE
        and "kantata:workspaces" in p["xrefs"]
        and p.get("opportunity_id")
        and sf_id("Opportunity", p["opportunity_id"]) in deals
    }
    view["workspaces"] = [r for r in view["workspaces"] if str(r["id"]) in workspaces]
    for name in ("stories", "workspace_allocations", "workspace_resources"):
        view[name] = [r for r in view[name] if str(r.get("workspace_id")) in workspaces]
    view["time_entries"], view["invoices"] = [], []
    return view


def _dependents(roots: set[str]) -> set[str]:
    """`roots` and every record that names one of them (by an `..._id` field), transitively:
    an account's contacts, deals, their projects, invoices, payments..."""
    found, grew = set(roots), bool(roots)
    while grew:
        grew = False
        for (_, record_id), payload in _truth().items():
            if record_id in found:
                continue
            named = {v for k, v in payload.items() if k.endswith("_id") and isinstance(v, str)}
            if named & found:
                found.add(record_id)
                grew = True
    return found


def golden_lines(without: frozenset[str] = frozenset()) -> list[str]:
    """The initial load: the firm's history minus the worked example's draft, its time
    entries, and the facts the CRM supplies on capture; `without` leaves out these records
    and everything that names them (an account the CRM will bring, blocked, on capture)."""
    draft_family = {WORKSPACE}
    absent = _dependents(set(without))
    out = []
    for line in firm().truth_lines():
        obj = json.loads(line)
        entity, payload = obj["entity_type"], obj["payload"]
        if entity == "TimeEntry" or payload["id"] in draft_family | absent:
            continue
        if payload.get("project_id") in draft_family:
            continue
        if entity == "Account":
            payload.pop("legal_entity_id", None)
            payload.pop("tax_code_id", None)
        if entity == "Opportunity" and payload["id"] == WORKED:
            payload.pop("delivery_start", None)
        out.append(json.dumps(obj))
    return out


def spec(system: str, crosswalks: dict[str, dict[str, str]] | None = None) -> MappingSpec:
    loaded = load_spec(CONNECTORS / system / "mapping.yaml")
    if not crosswalks:
        return loaded
    data = loaded.model_dump(by_alias=True, exclude_none=True)
    for name, entries in crosswalks.items():
        data["crosswalks"].setdefault(name, {}).update(entries)
    return MappingSpec.model_validate(data)


@dataclass
class FlowEnv:
    store: GoldenStore
    exceptions: ExceptionStore
    runtime: Runtime
    salesforce: SalesforceEmulator
    kantata: KantataEmulator
    erps: dict[str, Any]

    @property
    def netsuite(self) -> NetSuiteEmulator:
        emulator = self.erps["netsuite"]
        assert isinstance(emulator, NetSuiteEmulator)
        return emulator

    def connector(self, system: str) -> Any:
        return self.runtime.connectors[system]()

    def poll(self, system: str, *objects: str) -> dict[str, int]:
        seen: dict[str, int] = {}
        for obj in objects:
            for status, n in Poller(self.runtime, system, obj).run().counts.items():
                seen[status] = seen.get(status, 0) + n
        assert wait_idle(60)
        return seen

    def dispatch(self) -> dict[str, Any]:
        results = wait(dispatch(self.runtime))
        assert wait_idle(60)
        return results

    def read(self, system: str, obj: str) -> dict[str, dict[str, Any]]:
        connector = self.connector(system)
        try:
            return {r.id: r.data for page in connector.snapshot(obj) for r in page.records}
        finally:
            connector.close()

    def crm(self, obj: str, record_id: str, *fields: str) -> dict[str, Any]:
        """Fields of one Salesforce record, read with SOQL (the mapping reads fewer)."""
        connector = self.connector("salesforce")
        try:
            soql = f"SELECT {', '.join(fields)} FROM {obj} WHERE Id = '{record_id}'"
            (row,) = connector.query_records(soql)
            return dict(row)
        finally:
            connector.close()

    def edit(self, system: str, obj: str, key: str, rows: list[dict[str, Any]]) -> None:
        """A user's edit in a vendor system, through its API."""
        connector = self.connector(system)
        try:
            results = connector.upsert(obj, key, rows)
            assert all(r.error is None for r in results), results
        finally:
            connector.close()

    def kantata_put(self, obj: str, record_id: str, body: dict[str, Any]) -> None:
        """A resource manager's edit in the PSA, on the PSA's own record ID."""
        singular = obj.removesuffix("s")
        response = httpx.put(
            f"{self.kantata.base_url}/api/v1/{obj}/{record_id}.json",
            json={singular: body},
            headers={"Authorization": f"Bearer {self.kantata.token}"},
            timeout=10,
        )
        response.raise_for_status()

    def active(self, category: str) -> list[Any]:
        return self.exceptions.find(states=["open", "assigned"], category=category)


def _erp_factory(system: str, emulator: Any) -> Callable[[], Any]:
    """A connector factory for one ERP emulator, configured as a user would."""
    creds = emulator.credentials()
    if system == "netsuite":
        ns_settings = NetSuiteSettings.model_validate(
            {
                "base_url": emulator.base_url,
                "account_id": creds["account_id"],
                "consumer_key": creds["consumer_key"],
                "consumer_secret": creds["consumer_secret"],
                "token_id": creds["token_id"],
                "token_secret": creds["token_secret"],
            }
        )
        return lambda: NetSuiteConnector(ns_settings)
    if system == "sap_s4":
        sap_settings = SapS4Settings.model_validate(
            {
                "base_url": emulator.base_url,
                "username": creds["username"],
                "password": creds["password"],
                "sap_client": creds["sap_client"],
            }
        )
        return lambda: SapS4Connector(sap_settings)
    folders = ("inbound_dir", "ack_dir", "reject_dir", "outbound_dir")
    fd_settings = FileDropSettings.model_validate(
        {**{k: creds[k] for k in folders}, "ack_timeout": 30, "poll_interval": 0.05}
    )
    return lambda: FileDropConnector(fd_settings)


def _factories(sf: SalesforceEmulator, kt: KantataEmulator) -> dict[str, Callable[[], Any]]:
    sf_creds = sf.credentials()
    assert sf.tls is not None
    sf_settings = SalesforceSettings.model_validate(
        {
            "base_url": sf_creds["instance_url"],
            "client_id": sf_creds["client_id"],
            "client_secret": sf_creds["client_secret"],
            "ca_file": str(sf.tls.ca_file),
        }
    )
    kt_settings = KantataSettings.model_validate({"base_url": kt.base_url, "token": kt.token})
    return {
        "salesforce": lambda: SalesforceConnector(sf_settings),
        "kantata": lambda: KantataConnector(kt_settings),
    }


ERP_EMULATORS: dict[str, Callable[[Path], Any]] = {
    "netsuite": lambda d: NetSuiteEmulator(state_dir=d),
    "sap_s4": lambda d: SapS4Emulator(state_dir=d),
    "filedrop": lambda d: FileDropEmulator(state_dir=d, poll_interval=0.05),
}


def make_env(
    base: Path,
    crm_crosswalks: dict[str, dict[str, str]] | None = None,
    *,
    erps: tuple[str, ...] = ("netsuite",),
    deals: set[str] | None = None,
    without: frozenset[str] = frozenset(),
) -> Iterator[FlowEnv]:
    """One emulator set with the CRM, the PSA and `erps`; the CRM holds the chosen deals, or
    only `deals` (Salesforce IDs) and their accounts. The golden store starts without the
    records `without` names (canonical IDs) and their dependents."""
    url = f"sqlite:///{base}/pssync.db"
    store = GoldenStore(open_engine(url))
    report = import_lines(store, golden_lines(without), system="import")
    assert not report.rejected, report.rejected[:3]
    routing = RoutingConfig(
        default_owner="integration-team",
        routing=[RoutingRule(category=c, owner=o) for c, o in OWNERS.items()],
    )
    exceptions = ExceptionStore(store.engine, Router(routing))
    sf = SalesforceEmulator(state_dir=base / "sf").start()
    kt = KantataEmulator(state_dir=base / "kt").start()
    started = {name: ERP_EMULATORS[name](base / name).start() for name in erps}
    try:
        sf.seed(salesforce_view(deals))
        kt.seed(kantata_view(deals))
        for name, emulator in started.items():
            emulator.seed(copy.deepcopy(firm().views[name]))
        connectors = _factories(sf, kt) | {n: _erp_factory(n, e) for n, e in started.items()}
        runtime = Runtime(
            store=store,
            exceptions=exceptions,
            connectors=connectors,
            translators={
                "salesforce": Translator(spec("salesforce", crm_crosswalks)),
                "kantata": Translator(spec("kantata")),
            }
            | {name: Translator(spec(name)) for name in erps},
            roles={"salesforce": "crm", "kantata": "psa"} | dict.fromkeys(erps, "erp"),
            policy=OwnershipPolicy(default_system_of_record()),
            delivery=FAST,
        )
        configure(govern(runtime), FLOWS)
        start(runtime, url, polling_interval=0.05)
        try:
            yield FlowEnv(store, exceptions, runtime, sf, kt, started)
        finally:
            dbos_app.shutdown()
            set_runtime(None)
            stages.forget()
    finally:
        for emulator in (*started.values(), kt, sf):
            emulator.stop()
