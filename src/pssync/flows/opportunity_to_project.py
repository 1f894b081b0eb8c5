"""Flow 1 — opportunity -> draft project in the PSA (docs/flows.md).

When a deal reaches a configured stage and probability (`triggers.wants_draft`), delivery
should see it coming: a draft project appears in the PSA with the estimated effort by role
(one task per role), service line, region and the target start sales asked for. The draft is
updated as the deal's scope changes; a lost deal cancels it.

The draft's dates and status then belong to the PSA (system-of-record matrix): once the
workspace exists, this flow never moves its dates again — resource managers do, and the
resource-feedback flow carries their dates back to the CRM. The draft's canonical ID is derived
from the deal's (``opp-x`` -> ``prj-x``), so reruns update the same project.

Runs as a DBOS workflow (`draft_project`) because the workspace must exist before its tasks
can reference it; each step is durable and the workflow ID makes a rerun with the same inputs a
no-op.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from dbos import DBOS

from pssync.engine.ids import external_id
from pssync.engine.outbound import Command
from pssync.engine.runtime import current
from pssync.flows.common import deliver_now, payload, system_for, write
from pssync.governance.conflicts import check_start
from pssync.governance.handoff_checks import report_violations
from pssync.governance.validation import HandoffValidator
from pssync.planning.periods import add_months

ROUTE = "opportunity_to_project"
WORKSPACE, TASK = "workspaces", "stories"
ACTIVE_STATUS = {"message": "Active", "color": "green", "key": 310}
CANCELLED_STATUS = {"message": "Cancelled", "color": "red", "key": 410}


def draft_project_id(opportunity_id: str) -> str:
    return "prj-" + opportunity_id.removeprefix("opp-")


def effort_by_role(opportunity: dict[str, Any]) -> dict[str, Decimal]:
    hours: dict[str, Decimal] = defaultdict(Decimal)
    for item in opportunity.get("line_items") or []:
        if item.get("role_id"):
            hours[item["role_id"]] += Decimal(str(item["hours"]))
    return dict(sorted(hours.items()))


def build_draft(opportunity: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    """The draft project: commercial facts from the deal; dates and status only while the PSA
    has not taken the project over (it owns them afterwards)."""
    project = dict(existing or {})
    start_text = opportunity.get("requested_start") or opportunity.get("close_date")
    project.update(
        id=draft_project_id(opportunity["id"]),
        name=opportunity["name"],
        account_id=opportunity["account_id"],
        opportunity_id=opportunity["id"],
        service_line_id=opportunity.get("service_line_id"),
        region_id=opportunity.get("region_id"),
        legal_entity_id=opportunity.get("legal_entity_id"),
        baseline_hours=str(sum(effort_by_role(opportunity).values(), Decimal(0))),
        currency=(opportunity.get("amount") or {}).get("currency"),
    )
    if existing is None and start_text:
        start = dt.date.fromisoformat(start_text)
        months = int(opportunity.get("duration_months") or 3)
        project["planned_start"] = start.isoformat()
        project["planned_end"] = (add_months(start, months) - dt.timedelta(days=1)).isoformat()
        project["status"] = "draft"
    return project


def build_tasks(opportunity: dict[str, Any], role_names: dict[str, str]) -> list[dict[str, Any]]:
    """One task per role carrying its estimated hours (the role mix the PSA staffs from)."""
    project_id = draft_project_id(opportunity["id"])
    return [
        {
            "id": f"{project_id}-{role}",
            "project_id": project_id,
            "code": role,
            "name": f"{role_names.get(role, role)} effort",
            "planned_hours": str(hours),
        }
        for role, hours in effort_by_role(opportunity).items()
    ]


def _summary(opportunity: dict[str, Any], role_names: dict[str, str]) -> str:
    parts = [f"{role_names.get(r, r)} {h}h" for r, h in effort_by_role(opportunity).items()]
    return f"Draft from CRM deal {opportunity['name']}: " + ", ".join(parts)


def _role_names() -> dict[str, str]:
    return {
        v.record_id: v.payload.get("name", v.record_id)
        for v in current().store.iter_records("Role")
    }


@DBOS.step()
def prepare_draft_step(opportunity_id: str, correlation_id: str) -> dict[str, Any] | None:
    """Validate the deal and write the draft (project + role tasks) to the golden store."""
    runtime = current()
    violations = HandoffValidator(runtime.store).opportunity_to_project(opportunity_id)
    report_violations(
        runtime, opportunity_id, "draft", violations, actor="flows", correlation_id=correlation_id
    )
    opportunity = payload(runtime, "Opportunity", opportunity_id)
    if violations or opportunity is None:
        return None
    project_id = draft_project_id(opportunity_id)
    project = build_draft(opportunity, payload(runtime, "Project", project_id))
    write(runtime, "Project", project, correlation_id=correlation_id)
    tasks = build_tasks(opportunity, _role_names())
    for task in tasks:
        write(runtime, "WbsElement", task, correlation_id=correlation_id)
    return {"project_id": project_id, "tasks": [t["id"] for t in tasks]}


@DBOS.step()
def send_workspace_step(
    opportunity_id: str, extra: dict[str, Any] | None, correlation_id: str
) -> str | None:
    """Create or update the PSA workspace; its PSA ID, or None if the write failed.
    `extra` are further workspace fields (a status, the ERP project it is billed under)."""
    runtime = current()
    psa = system_for(runtime, "psa")
    project_id = draft_project_id(opportunity_id)
    project = payload(runtime, "Project", project_id) or {}
    opportunity = payload(runtime, "Opportunity", opportunity_id) or {}
    amount = Decimal(str((opportunity.get("amount") or {}).get("amount") or 0))
    defaults: dict[str, Any] = {
        "description": _summary(opportunity, _role_names()),
        "budget_in_cents": int(amount * 100),
    }
    defaults.update(extra or {})
    omap = runtime.translator(psa).object_map(WORKSPACE)
    command = Command(
        ROUTE,
        psa,
        WORKSPACE,
        omap.external_id_field or "external_id",
        external_id("Project", project_id, 40),
        "Project",
        project_id,
        project,
        defaults,
    )
    done = deliver_now(runtime, [command], correlation_id)
    return done.ids.get(command.external_id) if done.ok else None


@DBOS.step()
def send_tasks_step(task_ids: list[str], workspace_id: str, correlation_id: str) -> bool:
    """One PSA task per role under the workspace (the role mix with its hours)."""
    runtime = current()
    psa = system_for(runtime, "psa")
    omap = runtime.translator(psa).object_map(TASK)
    commands = [
        Command(
            ROUTE,
            psa,
            TASK,
            omap.external_id_field or "external_id",
            external_id("WbsElement", task_id, 40),
            "WbsElement",
            task_id,
            payload(runtime, "WbsElement", task_id) or {},
            {"workspace_id": workspace_id},
            fields=["name", "planned_hours"],
        )
        for task_id in task_ids
    ]
    return deliver_now(runtime, commands, correlation_id).ok


@DBOS.step()
def capacity_step(opportunity_id: str) -> str | None:
    """Tell resource managers now if the requested start is before the roles are free;
    returns the earliest start with capacity when it is later than the one requested."""
    runtime = current()
    opportunity = payload(runtime, "Opportunity", opportunity_id) or {}
    draft = draft_project_id(opportunity_id)
    conflict = check_start(runtime.store, runtime.exceptions, opportunity, [draft])
    if conflict is None:
        return None
    return conflict.earliest_start.isoformat() if conflict.earliest_start else "none"


@DBOS.workflow()
def draft_project(opportunity_id: str) -> dict[str, Any]:
    """Create or update the deal's draft project in the golden store and the PSA."""
    correlation_id = DBOS.workflow_id or ""
    prepared = prepare_draft_step(opportunity_id, correlation_id)
    if prepared is None:
        return {"status": "blocked", "opportunity_id": opportunity_id}
    workspace_id = send_workspace_step(opportunity_id, None, correlation_id)
    if workspace_id is None:
        return {"status": "failed", "project_id": prepared["project_id"]}
    tasks_ok = send_tasks_step(prepared["tasks"], workspace_id, correlation_id)
    earliest = capacity_step(opportunity_id)
    return {
        "status": "drafted" if tasks_ok else "partial",
        "project_id": prepared["project_id"],
        "workspace_id": workspace_id,
        "earliest_start_with_capacity": earliest,
    }


@DBOS.step()
def cancel_golden_step(opportunity_id: str, correlation_id: str) -> bool:
    runtime = current()
    project_id = draft_project_id(opportunity_id)
    project = payload(runtime, "Project", project_id)
    if project is None or project.get("status") != "draft":
        return False
    write(runtime, "Project", {**project, "status": "cancelled"}, correlation_id=correlation_id)
    return True


@DBOS.workflow()
def cancel_draft(opportunity_id: str) -> dict[str, Any]:
    """A lost deal: its draft (never an active project) is cancelled here and in the PSA."""
    correlation_id = DBOS.workflow_id or ""
    if not cancel_golden_step(opportunity_id, correlation_id):
        return {"status": "nothing to cancel", "opportunity_id": opportunity_id}
    workspace_id = send_workspace_step(opportunity_id, {"status": CANCELLED_STATUS}, correlation_id)
    return {"status": "cancelled" if workspace_id else "failed", "workspace_id": workspace_id}
