"""Flow 2 — closed-won -> ERP handoff (docs/flows.md).

Once a deal is won, order-to-cash must not wait for rekeying. In order, each a durable step:

1. pre-sync validation (legal entity, tax code, billing contact, payment terms, currency,
   billing rule, role mix) and the ERP that serves the deal's legal entity; a problem stops the
   handoff with an exception for its owner;
2. customer master: an account the ERP already knows is reused (the ERP owns it); a new one is
   checked for probable duplicates first — a duplicate blocks creation with the candidates and
   their scores — then created with its legal entity and payment terms;
3. project: the ERP project under the customer with a generated project code (NetSuite job,
   SAP enterprise project, the file-drop ERP's project with the contract value as budget); the
   project code is recorded as the ERP's (it owns it);
4. contract and billing: a contract line and, for milestone billing, one milestone per month of
   the delivery window — in the golden store and, where the ERP holds them, as ERP milestones
   (NetSuite project tasks, SAP billing elements); `erp_targets` has each ERP's bodies;
5. the PSA project is activated and carries the ERP project;
6. ERP IDs and the sync status are written back onto the CRM deal and account.

Before step 1, a deal the ERP already has a project for is linked to it instead (`erp_link`),
and a deal won before the look-back window with no such project raises
``won_without_erp_project`` instead of creating ERP records years late.

Ordering is why this is a DBOS workflow and not a route: the ERP project references the customer
by its ERP ID, the milestones the project. A failed write is dead-lettered (replayable) and the
CRM shows ``Sync_Status__c = Error`` until a rerun succeeds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dbos import DBOS

from pssync.connectors.errors import ConnectorError
from pssync.engine.outbound import Command
from pssync.engine.runtime import current
from pssync.flows.common import (
    FLOW_SYSTEM,
    Delivered,
    deliver_now,
    erp_for,
    payload,
    project_for,
    source_id,
    system_for,
    write,
)
from pssync.flows.erp_link import link_step, too_old_step
from pssync.flows.erp_targets import ROUTE, UnsupportedErpError, target_for
from pssync.flows.handoff_records import contract_line, milestones, project_code
from pssync.flows.opportunity_to_project import (
    ACTIVE_STATUS,
    build_draft,
    draft_project_id,
    send_workspace_step,
)
from pssync.governance.exceptions import NewException
from pssync.governance.handoff_checks import block_duplicate_customer, validate_before_handoff

SYNCED, ERROR = "Synced", "Error"


def _raise(opportunity_id: str, category: str, message: str, field: str) -> None:
    current().exceptions.raise_(
        NewException(
            category=category,
            message=message,
            entity_type="Opportunity",
            record_id=opportunity_id,
            details={"field": field, "stage": "handoff", "opportunity_id": opportunity_id},
            payload=opportunity_id,
        ),
        actor="flows",
    )


@DBOS.step()
def check_step(opportunity_id: str) -> dict[str, Any]:
    """Validation, the ERP of the legal entity, and the duplicate-customer gate."""
    runtime = current()
    opp = payload(runtime, "Opportunity", opportunity_id)
    if opp is None or not opp.get("is_won"):
        return {"ok": False, "reason": "not a won deal"}
    if validate_before_handoff(runtime, opportunity_id):
        return {"ok": False, "reason": "validation failed"}
    account = payload(runtime, "Account", opp["account_id"]) or {}
    entity = opp.get("legal_entity_id") or account.get("legal_entity_id")
    target = erp_for(runtime, entity)
    if target is None:
        _raise(
            opportunity_id,
            "missing_legal_entity",
            f"{opp['name']}: no connected ERP serves legal entity {entity!r}",
            "legal_entity_id",
        )
        return {"ok": False, "reason": f"no ERP for {entity}"}
    erp, subsidiary = target
    try:
        target_for(runtime, erp, subsidiary)
    except UnsupportedErpError as exc:
        _raise(
            opportunity_id,
            "delivery_failed",
            f"{opp['name']}: {exc}; create the customer and project there by hand",
            "legal_entity_id",
        )
        return {"ok": False, "reason": f"no handoff to {erp} yet"}
    customer = source_id(runtime, "Account", account["id"], erp)
    if customer is None and block_duplicate_customer(runtime, account, opportunity_id):
        return {"ok": False, "reason": "probable duplicate customer"}
    return {"ok": True, "erp": erp, "subsidiary": subsidiary, "customer_id": customer}


@DBOS.step()
def customer_step(
    opportunity_id: str, erp: str, subsidiary: str, correlation_id: str
) -> str | None:
    """Create the ERP customer for an account the ERP does not know yet."""
    runtime = current()
    opp = payload(runtime, "Opportunity", opportunity_id) or {}
    account = payload(runtime, "Account", opp["account_id"]) or {}
    command = target_for(runtime, erp, subsidiary).customer(account, opp)
    return _single(deliver_now(runtime, [command], correlation_id), command)


@DBOS.step()
def project_step(
    opportunity_id: str, erp: str, subsidiary: str, customer_id: str, correlation_id: str
) -> dict[str, Any] | None:
    """The ERP project under the customer, with its code, contract value and billing rule."""
    runtime = current()
    opp = payload(runtime, "Opportunity", opportunity_id) or {}
    project_id = project_for(runtime, opportunity_id, draft_project_id(opportunity_id))
    project = payload(runtime, "Project", project_id)
    if project is None:  # won without ever being drafted
        project = build_draft(opp, None)
        write(runtime, "Project", project, correlation_id=correlation_id)
    code = project.get("project_code") or project_code(opp, subsidiary)
    target = target_for(runtime, erp, subsidiary)
    try:
        customer_ref = target.customer_ref(customer_id)
    except ConnectorError as exc:  # the lookup failed: the CRM shows Error, replay retries
        _raise(
            opportunity_id,
            "delivery_failed",
            f"{opp.get('name')}: cannot look up customer {customer_id} in {erp}: {exc}",
            "account_id",
        )
        return None
    if customer_ref is None:
        _raise(
            opportunity_id,
            "delivery_failed",
            f"{opp.get('name')}: {erp} does not know customer {customer_id} (anymore); "
            "check the customer there and replay",
            "account_id",
        )
        return None
    command = target.project(opp, project, code, customer_ref)
    job_id = _single(deliver_now(runtime, [command], correlation_id), command)
    if job_id is None:
        return None
    # The ERP confirmed the code: record it as the ERP's (it owns project_code).
    write(runtime, "Project", {**project, "project_code": code}, erp, correlation_id=correlation_id)
    return {"job_id": job_id, "project_code": code, "project_id": project_id}


@DBOS.step()
def contract_step(
    opportunity_id: str, erp: str, subsidiary: str, project: dict[str, Any], correlation_id: str
) -> list[str] | None:
    """Contract line and billing milestones: in the ERP (under its project) and golden."""
    runtime = current()
    opp = payload(runtime, "Opportunity", opportunity_id) or {}
    golden = payload(runtime, "Project", project["project_id"]) or {}
    start = dt.date.fromisoformat(golden.get("planned_start") or opp["close_date"])
    end = dt.date.fromisoformat(golden.get("planned_end") or start.isoformat())
    contract_id = "cl-" + opportunity_id.removeprefix("opp-")
    plan = milestones(opp, contract_id, start)
    target = target_for(runtime, erp, subsidiary)
    commands = target.milestones(plan, project["job_id"], project["project_code"])
    if not deliver_now(runtime, commands, correlation_id).ok:
        return None
    # What the ERP confirmed is the ERP's; a plan it has no record of is pssync's own.
    vouched = erp if target.holds_milestones else FLOW_SYSTEM
    contract = contract_line(opp, contract_id, golden.get("id"), start, end)
    write(runtime, "ContractLine", contract, erp, correlation_id=correlation_id)
    for m in plan:
        write(runtime, "BillingMilestone", m, vouched, correlation_id=correlation_id)
    return [m["id"] for m in plan]


@DBOS.step()
def activate_golden_step(opportunity_id: str, project_id: str, correlation_id: str) -> None:
    runtime = current()
    project = payload(runtime, "Project", project_id) or {}
    if project and project.get("status") in (None, "draft"):
        write(runtime, "Project", {**project, "status": "active"}, correlation_id=correlation_id)


@DBOS.step()
def writeback_step(opportunity_id: str, values: dict[str, Any], correlation_id: str) -> bool:
    """ERP IDs and the sync status onto the CRM deal and its account (only these fields)."""
    runtime = current()
    crm = system_for(runtime, "crm")
    opp = payload(runtime, "Opportunity", opportunity_id) or {}
    ok = True
    for entity_type, record_id, fields in (
        ("Opportunity", opportunity_id, values.get("opportunity", {})),
        ("Account", opp.get("account_id", ""), values.get("account", {})),
    ):
        crm_id = source_id(runtime, entity_type, record_id, crm)
        if crm_id is None or not fields:
            continue
        command = Command(
            ROUTE, crm, entity_type, "Id", crm_id, entity_type, record_id, {}, fields, fields=[]
        )
        ok = deliver_now(runtime, [command], correlation_id).ok and ok
    return ok


@DBOS.workflow()
def closed_won_handoff(opportunity_id: str) -> dict[str, Any]:
    """Hand a won deal to the ERP of its legal entity; see the module docstring."""
    correlation_id = DBOS.workflow_id or ""
    existing = link_step(opportunity_id, correlation_id)
    if existing is not None:  # the firm handed it off before pssync: linked, nothing created
        return {
            "status": "linked",
            "project_id": existing["id"],
            "project_code": existing.get("project_code"),
        }
    if too_old_step(opportunity_id):
        return {"status": "blocked", "reason": "won before the look-back, no ERP project"}
    checked = check_step(opportunity_id)
    failed = {"opportunity": {"Sync_Status__c": ERROR}}
    if not checked["ok"]:
        writeback_step(opportunity_id, failed, correlation_id)
        return {"status": "blocked", "reason": checked["reason"]}
    erp, subsidiary = checked["erp"], checked["subsidiary"]
    customer_id = checked["customer_id"] or customer_step(
        opportunity_id, erp, subsidiary, correlation_id
    )
    project = None
    if customer_id is not None:
        project = project_step(opportunity_id, erp, subsidiary, customer_id, correlation_id)
    contract = None
    if project is not None:
        contract = contract_step(opportunity_id, erp, subsidiary, project, correlation_id)
    if project is None or contract is None:
        writeback_step(opportunity_id, failed, correlation_id)
        return {"status": "failed", "customer_id": customer_id}
    activate_golden_step(opportunity_id, project["project_id"], correlation_id)
    workspace_id = None
    if project["project_id"] == draft_project_id(opportunity_id):  # a workspace this flow made
        psa_fields = {
            "status": ACTIVE_STATUS,
            "erp_project_code": project["project_code"],
            "erp_project_id": project["job_id"],
            "erp_sync_status": SYNCED,
        }
        workspace_id = send_workspace_step(opportunity_id, psa_fields, correlation_id)
    values = {
        "opportunity": {
            "ERP_Project_Code__c": project["project_code"],
            "Sync_Status__c": SYNCED,
            **({"PSA_Project_Id__c": workspace_id} if workspace_id else {}),
        },
        "account": {"ERP_Customer_Id__c": customer_id, "Sync_Status__c": SYNCED},
    }
    writeback_step(opportunity_id, values, correlation_id)
    return {
        "status": "handed_off",
        "erp": erp,
        "customer_id": customer_id,
        "job_id": project["job_id"],
        "project_code": project["project_code"],
        "milestones": contract,
        "workspace_id": workspace_id,
    }


def _single(done: Delivered, command: Command) -> str | None:
    return done.ids.get(command.external_id) if done.ok else None
