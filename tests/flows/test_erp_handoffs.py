"""The closed-won handoff into SAP S/4HANA and the file-drop ERP, end to end on their emulators.

Same contract as the NetSuite handoff (test_worked_example): validation, the ERP of the deal's
legal entity, the customer (reused when the ERP knows the account, created otherwise), the
project with its code under the customer, billing milestones where the ERP holds them, ERP IDs
and a success status back on the CRM deal and account and on the PSA project — and a second run
writes nothing new. Deals of the DE01 entity go to SAP, AU01 deals to the file-drop ERP; for each
ERP one deal's account is already its customer and one's is not.

Tests run in order on one emulator set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from dbos import DBOS, SetWorkflowID

from pssync.connectors.filedrop.handoff import BILLING_METHOD as FILEDROP_BILLING
from pssync.connectors.sap_s4 import SapS4Connector
from pssync.engine.ids import external_id
from pssync.flows.closed_won_handoff import closed_won_handoff
from pssync.flows.handoff_records import project_code
from pssync.flows.opportunity_to_project import draft_project_id
from pssync.governance.replay import ReplayContext, replay
from pssync.mapping.translator import Translator
from pssync.sandbox.firm.misalign import KINDS

from .conftest import FlowEnv, _truth, firm, make_env, sf_id, spec

pytestmark = pytest.mark.integration
ENTITY_ERP = {"le-de01": "sap_s4", "le-au01": "filedrop"}


def _pick(
    entity: str,
    *,
    known_customer: bool | None,
    methods: tuple[str, ...],
    free_text: bool = False,
) -> str:
    """An open deal of `entity` free of planted misalignments (but its free-text service
    category, with `free_text`), whose account the entity's ERP already holds (or not), with
    one of the billing `methods`; the first by ID."""
    planted = {m.record_id for m in firm().misalignments if m.kind in KINDS}
    free = {m.record_id for m in firm().misalignments if m.kind == "free_text_service_category"}
    sf_categories = {
        o["Id"]: o["Service_Category__c"] for o in firm().views["salesforce"]["Opportunity"]
    }
    stock = {k.casefold() for k in spec("salesforce").crosswalks["service_line"]}
    erp_key = {"sap_s4": "sap_s4:A_BusinessPartner", "filedrop": "filedrop:customers"}
    found = []
    for (entity_type, record_id), opp in _truth().items():
        if entity_type != "Opportunity" or opp.get("legal_entity_id") != entity:
            continue
        account = _truth()[("Account", opp["account_id"])]
        if (
            opp.get("is_closed")
            or not opp.get("line_items")
            or opp.get("revenue_method") not in methods
            or account["xrefs"]["salesforce:Account"] in planted
            or ("Project", draft_project_id(record_id)) in _truth()
            or any(
                p.get("opportunity_id") == record_id
                for (t, _), p in _truth().items()
                if t == "Project"
            )
        ):
            continue
        sf_opp = opp["xrefs"]["salesforce:Opportunity"]
        unmapped = sf_opp in free and sf_categories[sf_opp].casefold() not in stock
        if free_text != unmapped or (sf_opp in planted and not unmapped):
            continue
        known = erp_key[ENTITY_ERP[entity]] in account["xrefs"]
        if known_customer is None or known == known_customer:
            found.append(record_id)
    assert found, f"no deal of {entity} fits"
    return sorted(found)[0]


SAP_NEW = _pick("le-de01", known_customer=False, methods=("milestone",))
SAP_KNOWN = _pick("le-de01", known_customer=True, methods=("milestone", "fixed_fee"))
FD_NEW = _pick("le-au01", known_customer=False, methods=("time_and_materials", "fixed_fee"))
FD_KNOWN = _pick("le-au01", known_customer=True, methods=("fixed_fee", "milestone"))
DEALS = (SAP_NEW, SAP_KNOWN, FD_NEW, FD_KNOWN)
# An AU deal whose free-text category the stock crosswalk lacks: blocked until it is mapped.
FD_BLOCKED = _pick(
    "le-au01",
    known_customer=None,
    methods=("milestone", "fixed_fee", "time_and_materials", "retainer"),
    free_text=True,
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowEnv]:
    yield from make_env(
        tmp_path_factory.mktemp("erps"),
        erps=("sap_s4", "filedrop"),
        deals={sf_id("Opportunity", d) for d in (*DEALS, FD_BLOCKED)},
    )


def _account(deal: str) -> str:
    return str(_truth()[("Opportunity", deal)]["account_id"])


def _erp_state(env: FlowEnv) -> dict[str, Any]:
    """Everything the two ERPs hold, as their own APIs and files show it."""
    state: dict[str, Any] = {}
    for obj in ("A_BusinessPartner", "A_EnterpriseProject", "A_EnterpriseProjectElement"):
        state[obj] = env.read("sap_s4", obj)
    for obj in ("customers", "projects"):
        state[obj] = env.read("filedrop", obj)
    return json.loads(json.dumps(state, sort_keys=True, default=str))


@pytest.fixture(scope="module")
def handed(env: FlowEnv) -> dict[str, dict[str, Any]]:
    """Win the four deals in the CRM and let dispatch hand them off; their outcomes."""
    env.poll("salesforce", "Account", "Opportunity", "OpportunityLineItem")
    won = [
        {"Id": sf_id("Opportunity", d), "StageName": "Closed Won", "Probability": 100}
        for d in DEALS
    ]
    env.edit("salesforce", "Opportunity", "Id", won)
    env.poll("salesforce", "Opportunity")
    results = env.dispatch()
    out = {}
    for deal in DEALS:
        mine = [r for w, r in results.items() if w.startswith(f"handoff:{deal}:")]
        assert len(mine) == 1, results
        out[deal] = mine[0]
    return out


def test_won_deals_go_to_the_erp_of_their_legal_entity(
    env: FlowEnv, handed: dict[str, dict[str, Any]]
) -> None:
    for deal, outcome in handed.items():
        entity = _truth()[("Opportunity", deal)]["legal_entity_id"]
        assert outcome["status"] == "handed_off", (deal, outcome)
        assert outcome["erp"] == ENTITY_ERP[entity]
        assert outcome["project_code"] == project_code(_truth()[("Opportunity", deal)], "")
    assert not [e for e in env.exceptions.find(states=["open"]) if e.record_id in DEALS]


def test_sap_gets_partner_project_and_billing_elements(
    env: FlowEnv, handed: dict[str, dict[str, Any]]
) -> None:
    partners = env.read("sap_s4", "A_BusinessPartner")
    projects = env.read("sap_s4", "A_EnterpriseProject")
    elements = env.read("sap_s4", "A_EnterpriseProjectElement")
    known = _truth()[("Account", _account(SAP_KNOWN))]["xrefs"]["sap_s4:A_BusinessPartner"]
    assert handed[SAP_KNOWN]["customer_id"] == known  # reused, not created again
    created = partners[handed[SAP_NEW]["customer_id"]]
    account = _truth()[("Account", _account(SAP_NEW))]
    assert created["BusinessPartnerIDByExtSystem"] == external_id("Account", account["id"], 20)
    assert created["OrganizationBPName1"] == (account.get("legal_name") or account["name"])[:40]
    assert created["BusinessPartnerCategory"] == "2"
    # Created as a customer in one deep insert: grouping, customer roles, company-code data.
    assert created["BusinessPartnerGrouping"] == "BP02"
    assert created["Customer"] == handed[SAP_NEW]["customer_id"]
    sap = env.connector("sap_s4")
    assert isinstance(sap, SapS4Connector)
    bp_api = sap.client("API_BUSINESS_PARTNER").entity_sets
    number = handed[SAP_NEW]["customer_id"]
    roles = bp_api.A_BusinessPartnerRole.get_entities().filter(f"BusinessPartner eq '{number}'")
    assert sorted(r.BusinessPartnerRole for r in roles.execute()) == ["FLCU00", "FLCU01"]
    company = bp_api.A_CustomerCompany.get_entity(Customer=number, CompanyCode="DE01").execute()
    terms = {"Net 30": "0030", "Net 45": "0045", "Net 60": "0060"}.get(account["payment_terms"])
    assert company.PaymentTerms == (terms or "")

    for deal in (SAP_NEW, SAP_KNOWN):
        out = handed[deal]
        project = projects[out["job_id"]]
        partner = partners[out["customer_id"]]
        assert project["Project"] == out["project_code"]
        assert project["CustomerUUID"] == partner["BusinessPartnerUUID"]
        # Reads name the customer by number too, which is what the xref map resolves.
        assert project["CustomerBusinessPartner"] == out["customer_id"]
        assert project["CompanyCode"] == "DE01"
        golden = env.store.get("Project", draft_project_id(deal))
        assert golden is not None and golden.payload["project_code"] == out["project_code"]
        origin = env.store.provenance("Project", draft_project_id(deal), "project_code")
        assert origin is not None and origin["system"] == "sap_s4"

    out = handed[SAP_NEW]
    mine = sorted(
        (e for e in elements.values() if e["ProjectUUID"] == out["job_id"]),
        key=lambda e: str(e["ProjectElement"]),
    )
    plan = [env.store.get("BillingMilestone", m) for m in out["milestones"]]
    assert len(mine) == len(plan) >= 1
    assert all(e["WBSElementIsBillingElement"] for e in mine)
    assert [e["PlannedEndDate"] for e in mine] == [
        m.payload["due_date"] for m in plan if m is not None
    ]
    total = sum(Decimal(m.payload["amount"]["amount"]) for m in plan if m is not None)
    assert total == Decimal(str(_truth()[("Opportunity", SAP_NEW)]["amount"]["amount"]))


def test_the_filedrop_erp_gets_customer_and_project_files(
    env: FlowEnv, handed: dict[str, dict[str, Any]]
) -> None:
    customers = env.read("filedrop", "customers")
    projects = env.read("filedrop", "projects")
    known = _truth()[("Account", _account(FD_KNOWN))]["xrefs"]["filedrop:customers"]
    assert handed[FD_KNOWN]["customer_id"] == known
    created = customers[handed[FD_NEW]["customer_id"]]
    account = _truth()[("Account", _account(FD_NEW))]
    assert created["external_id"] == external_id("Account", account["id"], 40)
    assert created["country"] == "AU"
    assert created["payment_terms"] == str(account["payment_terms"]).upper().replace(" ", "")
    for deal in (FD_NEW, FD_KNOWN):
        out = handed[deal]
        opp = _truth()[("Opportunity", deal)]
        row = projects[out["job_id"]]
        assert row["code"] == out["project_code"]
        # Named by the external ID its customer was sent under; reads add the ERP id.
        assert row["customer_external_id"] == customers[out["customer_id"]]["external_id"]
        assert row["customer_erp_id"] == out["customer_id"]
        assert Decimal(str(row["budget"])) == Decimal(str(opp["amount"]["amount"]))
        assert row["billing_method"] == FILEDROP_BILLING[opp["revenue_method"]]
        contract = env.store.get("ContractLine", "cl-" + deal.removeprefix("opp-"))
        assert contract is not None and contract.payload["billing_rule"] == opp["revenue_method"]


def test_erp_ids_and_status_reach_the_crm_and_the_psa(
    env: FlowEnv, handed: dict[str, dict[str, Any]]
) -> None:
    workspaces = {w.get("external_id"): w for w in env.read("kantata", "workspaces").values()}
    for deal, out in handed.items():
        crm_deal = env.crm(
            "Opportunity",
            sf_id("Opportunity", deal),
            "ERP_Project_Code__c",
            "Sync_Status__c",
            "PSA_Project_Id__c",
        )
        assert crm_deal["ERP_Project_Code__c"] == out["project_code"]
        assert crm_deal["Sync_Status__c"] == "Synced"
        assert crm_deal["PSA_Project_Id__c"] == str(out["workspace_id"])
        crm_account = env.crm(
            "Account", sf_id("Account", _account(deal)), "ERP_Customer_Id__c", "Sync_Status__c"
        )
        assert crm_account["ERP_Customer_Id__c"] == out["customer_id"]
        assert crm_account["Sync_Status__c"] == "Synced"
        workspace = workspaces[external_id("Project", draft_project_id(deal), 40)]
        assert workspace["erp_project_code"] == out["project_code"]
        assert str(workspace["erp_project_id"]) == str(out["job_id"])
        assert workspace["status"]["message"] == "Active"


def test_a_second_run_writes_nothing_new(env: FlowEnv, handed: dict[str, dict[str, Any]]) -> None:
    before = _erp_state(env)
    batches = len(env.erps["filedrop"].processed)
    for deal in DEALS:
        with SetWorkflowID(f"handoff:{deal}:again"):
            again = DBOS.start_workflow(closed_won_handoff, deal).get_result()
        assert again["status"] == "handed_off"
        for key in ("customer_id", "job_id", "project_code", "milestones"):
            assert again[key] == handed[deal][key], key
    assert _erp_state(env) == before  # SAP stamps every write (LastChangeDateTime)
    assert len(env.erps["filedrop"].processed) == batches  # not even an unchanged batch
    # Reading the ERPs back brings pssync's own writes: nothing to apply, nothing to raise.
    env.poll("sap_s4", "A_BusinessPartner", "A_EnterpriseProject", "A_EnterpriseProjectElement")
    env.poll("filedrop", "customers", "projects")
    assert not [e for e in env.exceptions.find(states=["open"]) if e.record_id in DEALS]
    # The customers pssync created are known as the accounts they were created for.
    for system, obj, deal in (
        ("sap_s4", "A_BusinessPartner", SAP_NEW),
        ("filedrop", "customers", FD_NEW),
    ):
        found = env.store.resolve_xref(system, obj, handed[deal]["customer_id"])
        assert found == ("Account", _account(deal)), (system, found)
    for deal in DEALS:
        project = env.store.get("Project", draft_project_id(deal))
        assert project is not None and project.payload["account_id"] == _account(deal)
    # Dispatch sees coded projects: no handoff of these deals starts again.
    started = env.dispatch()
    assert not [w for w in started if any(w.startswith(f"handoff:{d}:") for d in DEALS)]


def test_a_deal_blocked_by_its_category_reaches_the_erp_once_mapped_and_replayed(
    env: FlowEnv, handed: dict[str, dict[str, Any]]
) -> None:
    crm_id = sf_id("Opportunity", FD_BLOCKED)
    (unmapped,) = [e for e in env.active("unmapped_value") if e.source_id == crm_id]

    # The deal desk maps the category in pssync.yaml and replays.
    category = unmapped.details["value"]
    env.runtime.translators["salesforce"] = Translator(
        spec("salesforce", {"service_line": {category: "sl-cloud"}})
    )
    done = replay(ReplayContext(env.store, env.exceptions), unmapped, actor="deal-desk")
    assert done.state == "resolved", done.message
    found = env.store.resolve_xref("salesforce", "Opportunity", crm_id)
    assert found is not None
    deal = env.store.get("Opportunity", found[1])
    assert deal is not None and deal.payload["line_items"]

    env.edit(
        "salesforce",
        "Opportunity",
        "Id",
        [{"Id": crm_id, "StageName": "Closed Won", "Probability": 100}],
    )
    env.poll("salesforce", "Opportunity")
    results = env.dispatch()
    (outcome,) = [r for w, r in results.items() if w.startswith(f"handoff:{found[1]}:")]
    assert outcome["status"] == "handed_off" and outcome["erp"] == "filedrop", outcome
    project = env.read("filedrop", "projects")[outcome["job_id"]]
    assert project["customer_erp_id"] == outcome["customer_id"]
    assert project["code"] == outcome["project_code"]
