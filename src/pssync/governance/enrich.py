"""Enrichers: fields a source leaves implicit, filled from the golden records it names.

They run on the translated fields of each record, after `references.resolve_references` has
made the reference IDs canonical, and before the record is merged over its golden version.
"""

from __future__ import annotations

from typing import Any

from pssync.engine.stages import PageContext

# Entities whose customer a source may leave implicit in the project (a Kantata invoice names
# its workspaces, not the client the workspace belongs to).
ACCOUNT_FROM_PROJECT = frozenset({"Invoice"})


def region_from_account(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A deal without a delivery region of its own is delivered in its account's region.

    Salesforce keeps the region on the account (`Region__c`), not the opportunity; the draft
    and the capacity check need it on the deal. A region the CRM sets on the deal wins.
    """
    if ctx.translator(ctx.system).object_map(obj).entity != "Opportunity":
        return fields
    if fields.get("region_id") or not fields.get("account_id"):
        return fields
    account = ctx.golden("Account", str(fields["account_id"]))
    region = account.payload.get("region_id") if account is not None else None
    return {**fields, "region_id": region} if region else fields


def account_from_project(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fill a missing `account_id` from the golden project the record names.

    Runs after `resolve_references`, so `project_id` is canonical when the project is known;
    an unknown project leaves the record as it was (and validation says what is missing).
    """
    entity_type = ctx.translator(ctx.system).object_map(obj).entity
    project_id = fields.get("project_id")
    if entity_type not in ACCOUNT_FROM_PROJECT or fields.get("account_id") or not project_id:
        return fields
    project = ctx.golden("Project", str(project_id))
    account = project.payload.get("account_id") if project is not None else None
    return {**fields, "account_id": account} if account else fields
