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


# What a project opened for a deal takes from it when its source leaves it out (the draft flow
# sets the same from the deal): a PSA workspace knows its deal, not the firm's service line,
# delivery region or contracting entity.
FROM_DEAL = ("service_line_id", "region_id", "legal_entity_id")
# Records that carry their project's service line and region (or deal), or its deal's revenue
# method, when their source leaves them out (Kantata staffing requests, ERP revenue postings and
# contracts).
FROM_PROJECT: dict[str, tuple[str, ...]] = {
    "ResourceRequest": ("region_id",),
    "RevenueEvent": ("region_id", "service_line_id"),
    # An ERP contract names its project, not the deal it was sold in (SAP's sales order item
    # and the file drop's contract name the project); the project knows both.
    "ContractLine": ("opportunity_id", "service_line_id"),
}
DEAL_OF_PROJECT: dict[str, tuple[str, ...]] = {"RevenueEvent": ("revenue_method",)}


def _fill(fields: dict[str, Any], source: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    extra = {n: source[n] for n in names if not fields.get(n) and source.get(n)}
    return {**fields, **extra} if extra else fields


def project_from_deal(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fill a project's missing service line, region and legal entity from its golden deal,
    and its customer when the source names one pssync does not know (a Kantata workspace
    group, which is a folder of workspaces, not a customer master)."""
    if ctx.translator(ctx.system).object_map(obj).entity != "Project":
        return fields
    deal_id = fields.get("opportunity_id")
    deal = ctx.golden("Opportunity", str(deal_id)) if deal_id else None
    if deal is None:
        return fields
    out = _fill(fields, deal.payload, FROM_DEAL)
    account = out.get("account_id")
    if deal.payload.get("account_id") and (
        not account or ctx.golden("Account", str(account)) is None
    ):
        out = {**out, "account_id": deal.payload["account_id"]}
    return out


def from_project(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fill the fields `FROM_PROJECT` names from the golden project the record names (and
    `DEAL_OF_PROJECT` from that project's deal)."""
    entity_type = ctx.translator(ctx.system).object_map(obj).entity
    names = FROM_PROJECT.get(entity_type)
    project_id = fields.get("project_id")
    if not names or not project_id:
        return fields
    project = ctx.golden("Project", str(project_id))
    if project is None:
        return fields
    out = _fill(fields, project.payload, names)
    deal_names = DEAL_OF_PROJECT.get(entity_type, ())
    deal_id = project.payload.get("opportunity_id")
    if deal_names and deal_id:
        deal = ctx.golden("Opportunity", str(deal_id))
        if deal is not None:
            out = _fill(out, deal.payload, deal_names)
    return out


def rate_from_deal(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A booking without a bill rate is billed at the rate the deal sold its role at.

    Kantata allocations carry hours and dates, not money: the rate is the one on the deal's
    line item for the booked role (one rate per role; two different ones leave it empty)."""
    if ctx.translator(ctx.system).object_map(obj).entity != "Assignment":
        return fields
    if fields.get("bill_rate") or not fields.get("role_id") or not fields.get("project_id"):
        return fields
    project = ctx.golden("Project", str(fields["project_id"]))
    deal_id = project.payload.get("opportunity_id") if project is not None else None
    deal = ctx.golden("Opportunity", str(deal_id)) if deal_id else None
    if deal is None:
        return fields
    rates = {
        (str(item["rate"]["amount"]), str(item["rate"]["currency"]))
        for item in deal.payload.get("line_items") or []
        if item.get("role_id") == fields["role_id"] and isinstance(item.get("rate"), dict)
    }
    if len(rates) != 1:
        return fields
    amount, currency = rates.pop()
    return {**fields, "bill_rate": {"amount": amount, "currency": currency}}


# Records that bill or recognise a project's contract, when their source names only the project
# (Kantata and NetSuite invoices, NetSuite revenue journals).
CONTRACT_OF_PROJECT = frozenset({"Invoice", "RevenueEvent"})


def contract_from_project(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fill a missing `contract_line_id` with the one contract line of the record's project
    (a project sold as one contract; two or none leave it empty), and a revenue posting's
    missing revenue method and service line with that contract's (its deal may be held back)."""
    entity_type = ctx.translator(ctx.system).object_map(obj).entity
    project_id = fields.get("project_id")
    if entity_type not in CONTRACT_OF_PROJECT or fields.get("contract_line_id") or not project_id:
        return fields
    index = ctx.memo.get(_CONTRACTS)
    if index is None:
        index = {}
        for version in ctx.store.iter_records("ContractLine"):
            owner = version.payload.get("project_id")
            if owner:
                index.setdefault(str(owner), set()).add(version.record_id)
        ctx.memo[_CONTRACTS] = index
    found = index.get(str(project_id), set())
    if len(found) != 1:
        return fields
    out = {**fields, "contract_line_id": next(iter(found))}
    contract = ctx.golden("ContractLine", out["contract_line_id"])
    if entity_type == "RevenueEvent" and contract is not None:  # recognised as it was sold
        out = _fill(out, contract.payload, ("revenue_method", "service_line_id"))
    return out


_CONTRACTS = ("enrich", "contracts by project")
