"""Flow 3 — resource feedback: the PSA's plan flows back to the CRM (docs/flows.md).

Sales should not commit a July start that delivery can only meet in August. When a project's
plan changes in the PSA (staffing moved its start), the deal behind it learns the start date
delivery can actually meet: the golden deal's `delivery_start` (owned by the PSA in the
system-of-record matrix, so it is written as the PSA system) and the CRM's
``Delivery_Start__c``. Analytics read the same golden history, so the forecast moves the
revenue with it.

For a deal still open, the capacity check runs as well: a requested start before its roles
have capacity is a `resource_conflict` for the resource managers (resolved once it is not).

This is an engine route: it runs inside the ingest step of the PSA change and returns one
command for the CRM (only ``Delivery_Start__c`` is written; the CRM owns everything else).
"""

from __future__ import annotations

from pssync.engine.outbound import AppliedChange, Command, register_route
from pssync.engine.runtime import Runtime
from pssync.flows.common import payload, source_id, systems_with_role, write
from pssync.flows.triggers import FEEDBACK
from pssync.governance.conflicts import check_start

CRM_FIELD = "Delivery_Start__c"


@register_route(FEEDBACK)
def resource_feedback(runtime: Runtime, change: AppliedChange) -> list[Command]:
    """Project planned start from the PSA -> deal delivery start (golden and CRM)."""
    if change.entity_type != "Project" or runtime.role(change.system) != "psa":
        return []
    project = change.payload
    opportunity_id, start = project.get("opportunity_id"), project.get("planned_start")
    if not opportunity_id or not start:
        return []
    opportunity = payload(runtime, "Opportunity", opportunity_id)
    if opportunity is None:
        return []
    if opportunity.get("delivery_start") != start:
        write(
            runtime,
            "Opportunity",
            {**opportunity, "delivery_start": start},
            change.system,
            correlation_id=change.event_key,
        )
    if not opportunity.get("is_closed"):
        check_start(runtime.store, runtime.exceptions, opportunity, [change.record_id])
    commands = []
    for crm in systems_with_role(runtime, "crm"):
        crm_id = source_id(runtime, "Opportunity", opportunity_id, crm)
        if crm_id is not None:
            commands.append(
                Command(
                    FEEDBACK,
                    crm,
                    "Opportunity",
                    "Id",
                    crm_id,
                    "Opportunity",
                    opportunity_id,
                    {},
                    {CRM_FIELD: start},
                    fields=[],
                )
            )
    return commands
