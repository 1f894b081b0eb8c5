"""The article's worked example, end to end through the engine on the emulators.

A 70% deal expecting a July start gets a draft project in the PSA; the PSA cannot staff its
architects until August and says so; the CRM receives the August date; the deal is won in the
CRM and the ERP then holds the customer, the project with its code and the billing milestones,
while the CRM and the PSA carry the ERP IDs and a success status. The handoff KPIs and the
lineage are computed from what the flows recorded.

The tests in this module run in order on one emulator set: each picks up where the last left off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from pssync.engine.ids import external_id
from pssync.flows.lineage import lineage, summary_lines
from pssync.forecast.analytics import AnalyticsStore
from pssync.kpi.delivery import conversion_time, conversions, project_code_sla
from pssync.store.history import utcnow

from .conftest import ARCHITECT, WORKED, WORKSPACE, FlowEnv, make_env, salesforce_view, sf_id

pytestmark = pytest.mark.integration
REQUESTED, FEASIBLE, PSA_START = "2026-07-01", "2026-08-01", "2026-08-03"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowEnv]:
    # The org's pssync.yaml maps its "Transformation" category (the planted free text for
    # this deal is exercised in test_misalignments).
    yield from make_env(
        tmp_path_factory.mktemp("worked"), {"service_line": {"Transformation": "sl-trans"}}
    )


def _workspace(env: FlowEnv) -> dict[str, Any]:
    ext = external_id("Project", WORKSPACE, 40)
    found = [w for w in env.read("kantata", "workspaces").values() if w.get("external_id") == ext]
    assert len(found) == 1, f"expected one workspace for {ext}, found {len(found)}"
    return found[0]


def test_a_70_percent_deal_gets_a_draft_project_in_the_psa(env: FlowEnv) -> None:
    env.poll("salesforce", "Account", "Opportunity")
    deal = env.store.get("Opportunity", WORKED)
    assert deal is not None and deal.payload["stage"] == "Proposal"
    assert deal.payload["account_id"] == "acc-00003"  # the CRM's AccountId resolved via xref

    results = env.dispatch()
    drafts = {wid: r for wid, r in results.items() if wid.startswith(f"draft:{WORKED}:")}
    assert len(drafts) == 1, results
    (outcome,) = drafts.values()
    assert outcome["status"] == "drafted"
    # The capacity check already knows the architects are not free before August.
    assert outcome["earliest_start_with_capacity"] == FEASIBLE

    workspace = _workspace(env)
    assert workspace["title"] == "Coho Energy Finance Transformation Programme"
    assert workspace["start_date"] == REQUESTED  # sales' target start, for now
    tasks = [
        t
        for t in env.read("kantata", "stories").values()
        if str(t["workspace_id"]) == str(workspace["id"])
    ]
    minutes = {t["title"]: t["time_estimate_in_minutes"] for t in tasks}
    assert minutes["Solution Architect effort"] == 420 * 60
    assert len(tasks) == 3  # one per role of the deal's line items

    project = env.store.get("Project", WORKSPACE)
    assert project is not None
    assert project.payload["status"] == "draft"
    assert project.payload["service_line_id"] == "sl-trans"
    assert project.payload["region_id"] == "reg-na"
    assert Decimal(project.payload["baseline_hours"]) == Decimal(1120)
    # A Proposal deal the PSA already has a project for is the PSA's: no second draft.
    assert not [w for w in results if w.startswith("draft:opp-00279:")]


def test_the_start_before_capacity_goes_to_the_resource_managers(env: FlowEnv) -> None:
    conflicts = [e for e in env.active("resource_conflict") if e.record_id == WORKED]
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict.owner == "resource-managers"
    assert "role-sa" in conflict.details["roles"]
    assert conflict.details["earliest_start"] == FEASIBLE
    # Its blocker is the hard-booked architect programme, which the plan counts.
    assert env.store.get("Opportunity", ARCHITECT) is not None


def test_the_psa_date_reaches_the_crm(env: FlowEnv) -> None:
    ext = external_id("Project", WORKSPACE, 40)
    # The resource manager staffs the architects from August in the PSA.
    env.edit(
        "kantata",
        "workspaces",
        "external_id",
        [{"external_id": ext, "start_date": PSA_START, "due_date": "2026-10-30"}],
    )
    seen = env.poll("kantata", "workspaces")
    assert seen.get("applied", 0) >= 1

    deal = env.store.get("Opportunity", WORKED)
    assert deal is not None and deal.payload["delivery_start"] == PSA_START
    origin = env.store.provenance("Opportunity", WORKED, "delivery_start")
    assert origin is not None and origin["system"] == "kantata"
    crm = env.read("salesforce", "Opportunity")[sf_id("Opportunity", WORKED)]
    assert crm["Delivery_Start__c"] == PSA_START
    assert crm["Requested_Start__c"] == REQUESTED  # the CRM's own fields are untouched
    assert crm["StageName"] == "Proposal"


def test_winning_the_deal_hands_it_to_the_erp(env: FlowEnv) -> None:
    deal_id = sf_id("Opportunity", WORKED)
    env.edit(
        "salesforce",
        "Opportunity",
        "Id",
        [{"Id": deal_id, "StageName": "Closed Won", "Probability": 100}],
    )
    seen = env.poll("salesforce", "Opportunity")
    assert seen.get("applied", 0) >= 1, seen  # the stage change is news, not an echo
    deal = env.store.get("Opportunity", WORKED)
    assert deal is not None and deal.payload["is_won"]

    results = env.dispatch()
    handoffs = {w: r for w, r in results.items() if w.startswith(f"handoff:{WORKED}:")}
    assert len(handoffs) == 1, results
    (out,) = handoffs.values()
    assert out["status"] == "handed_off", out

    customers = env.read("netsuite", "customer")
    customer = customers[out["customer_id"]]
    assert customer["companyName"] == "Coho Energy LLC"
    assert customer["externalId"] == external_id("Account", "acc-00003", 40)
    job = env.read("netsuite", "job")[out["job_id"]]
    assert job["entityId"] == out["project_code"]
    assert str(job["parent"]) == out["customer_id"]  # SuiteQL reads references as IDs
    tasks = [
        t
        for t in env.read("netsuite", "projecttask").values()
        if str(t.get("company")) == out["job_id"]
    ]
    assert sorted(t["title"] for t in tasks) == [f"Milestone {i} of 3" for i in (1, 2, 3)]

    milestones = [env.store.get("BillingMilestone", m) for m in out["milestones"]]
    total = sum(Decimal(m.payload["amount"]["amount"]) for m in milestones if m is not None)
    assert total == Decimal("268800.00")  # to the cent
    contract = env.store.get("ContractLine", "cl-worked-example")
    assert contract is not None and contract.payload["revenue_method"] == "milestone"

    project = env.store.get("Project", WORKSPACE)
    assert project is not None
    assert project.payload["project_code"] == out["project_code"]
    assert project.payload["status"] == "active"

    crm_deal = env.crm(
        "Opportunity", deal_id, "ERP_Project_Code__c", "Sync_Status__c", "PSA_Project_Id__c"
    )
    assert crm_deal["ERP_Project_Code__c"] == out["project_code"]
    assert crm_deal["Sync_Status__c"] == "Synced"
    assert crm_deal["PSA_Project_Id__c"] == str(out["workspace_id"])
    crm_account = env.crm(
        "Account", sf_id("Account", "acc-00003"), "ERP_Customer_Id__c", "Sync_Status__c"
    )
    assert crm_account["ERP_Customer_Id__c"] == out["customer_id"]
    assert crm_account["Sync_Status__c"] == "Synced"
    workspace = _workspace(env)
    assert workspace["status"]["message"] == "Active"
    assert workspace["erp_project_code"] == out["project_code"]

    # A second dispatch starts nothing new: the deal has its ERP project.
    assert not [w for w in env.dispatch() if w.startswith(f"handoff:{WORKED}")]


def test_the_handoff_kpis_are_computable(env: FlowEnv) -> None:
    analytics = AnalyticsStore()
    analytics.sync(env.store)
    today = utcnow().date()
    mine = [c for c in conversions(analytics, today) if c.opportunity_id == WORKED]
    assert len(mine) == 1
    assert mine[0].won_on == today
    assert mine[0].days_to_code == 0
    assert mine[0].project_on is not None and mine[0].project_on <= mine[0].won_on
    sla = project_code_sla(analytics, today, sla_days=5)
    assert sla["met"] >= 1 and sla["share"] is not None
    assert conversion_time(analytics, today)["converted"] >= 1


def test_lineage_walks_from_the_deal_to_contract_and_milestones(env: FlowEnv) -> None:
    trace = lineage(env.store, WORKED)
    assert trace["opportunity"]["fields"]["stage"]["system"] == "salesforce"
    assert trace["opportunity"]["fields"]["delivery_start"]["system"] == "kantata"
    (project,) = [p for p in trace["projects"] if p["id"] == WORKSPACE]
    assert project["fields"]["planned_start"]["value"] == PSA_START
    assert project["fields"]["planned_start"]["system"] == "kantata"
    assert project["fields"]["project_code"]["system"] == "netsuite"
    assert project["ids"]["netsuite:job"] and project["ids"]["kantata:workspaces"]
    assert len(trace["milestones"]) == 3 and len(trace["contracts"]) == 1
    assert all(f.get("transaction_id") for f in project["fields"].values() if "system" in f)
    assert any("project_code" in line for line in summary_lines(trace))


def test_a_lost_deal_cancels_its_draft(env: FlowEnv) -> None:
    candidates = [
        o
        for o in salesforce_view()["Opportunity"]
        if o["StageName"] == "Solution Design" and o["Service_Category__c"] in ("TRANS", "ERP")
    ]
    deal = candidates[0]
    env.edit(
        "salesforce",
        "Opportunity",
        "Id",
        [{"Id": deal["Id"], "StageName": "Proposal", "Probability": 70}],
    )
    env.poll("salesforce", "Opportunity")
    opp_id = env.store.resolve_xref("salesforce", "Opportunity", deal["Id"])
    assert opp_id is not None
    drafted = env.dispatch()
    assert any(r["status"] == "drafted" for w, r in drafted.items() if opp_id[1] in w), drafted
    project_id = "prj-" + opp_id[1].removeprefix("opp-")

    env.edit(
        "salesforce",
        "Opportunity",
        "Id",
        [{"Id": deal["Id"], "StageName": "Closed Lost", "Probability": 0}],
    )
    env.poll("salesforce", "Opportunity")
    cancelled = env.dispatch()
    assert cancelled[f"cancel:{opp_id[1]}"]["status"] == "cancelled"
    project = env.store.get("Project", project_id)
    assert project is not None and project.payload["status"] == "cancelled"
    ext = external_id("Project", project_id, 40)
    (workspace,) = [
        w for w in env.read("kantata", "workspaces").values() if w.get("external_id") == ext
    ]
    assert workspace["status"]["message"] == "Cancelled"
    assert dt.date.fromisoformat(workspace["start_date"])  # the draft kept its dates
