"""A won deal the ERP already has a project for: find that project and link it to the deal.

Firms hand deals to the ERP long before pssync is connected, so most won deals already have an
ERP project, and the ERP's project record does not name the CRM deal (a NetSuite job, an SAP
enterprise project, a file-drop project only know their customer). Handing such a deal off
again would create a second ERP project. Before creating anything, the handoff looks for the
deal's project among the coded projects of the deal's customer: same legal entity, not linked
to another deal, and named as the deal (ERPs cut names: NetSuite and SAP keep 40 characters,
so the ERP's name must be the start of the deal's and long enough to mean something). When a
customer bought the same thing twice under one name, the dates tell the projects apart (`pick`);
when they do not, or nothing matches, the decision is left to the handoff or to a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dbos import DBOS

from pssync.engine.runtime import current
from pssync.flows.common import payload, write
from pssync.flows.opportunity_to_project import draft_project_id
from pssync.governance.exceptions import NewException

MIN_PREFIX = 20  # characters of a cut name that still identify a project
CLEAR_MARGIN_DAYS = 60  # how much nearer the requested start one candidate must start


def name_matches(deal_name: str, project_name: str) -> bool:
    deal, project = deal_name.strip().casefold(), project_name.strip().casefold()
    if not project:
        return False
    return deal == project or (len(project) >= MIN_PREFIX and deal.startswith(project))


def candidates(opportunity: dict[str, Any], projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The coded projects of the deal's customer that can only be this deal's."""
    entity = opportunity.get("legal_entity_id")
    return [
        p
        for p in projects
        if p.get("project_code")
        and p.get("account_id") == opportunity.get("account_id")
        and p.get("opportunity_id") is None
        and (entity is None or p.get("legal_entity_id") in (None, entity))
        and name_matches(str(opportunity.get("name") or ""), str(p.get("name") or ""))
    ]


def pick(opportunity: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one candidate that is this deal's: the only one, or — when a customer bought the
    same service twice under one name — the one that starts when the deal's delivery starts
    (the PSA's date the CRM holds), else the one starting nearest the requested start by a
    clear margin. None when the dates do not tell them apart."""
    if len(found) <= 1:
        return found[0] if found else None
    delivery = opportunity.get("delivery_start")
    same = [p for p in found if delivery and p.get("planned_start") == delivery]
    if len(same) == 1:
        return same[0]
    asked = opportunity.get("requested_start") or opportunity.get("close_date")
    dated = [p for p in found if p.get("planned_start")]
    if not asked or len(dated) < len(found):
        return None
    wanted = dt.date.fromisoformat(str(asked)[:10])
    gaps = sorted(
        (abs((dt.date.fromisoformat(str(p["planned_start"])[:10]) - wanted).days), i)
        for i, p in enumerate(dated)
    )
    return dated[gaps[0][1]] if gaps[1][0] - gaps[0][0] > CLEAR_MARGIN_DAYS else None


@DBOS.step()
def link_step(opportunity_id: str, correlation_id: str) -> dict[str, Any] | None:
    """Link the deal to the ERP project the firm already has for it; that project, or None.

    The link is dated when the project became valid, not today: the project existed then, and
    the conversion KPIs read the first version naming the deal."""
    runtime = current()
    opp = payload(runtime, "Opportunity", opportunity_id)
    if opp is None:
        return None
    versions = {v.record_id: v for v in runtime.store.iter_records("Project")}
    own = draft_project_id(opportunity_id)
    for version in versions.values():
        p = version.payload
        if p.get("opportunity_id") == opportunity_id and p.get("project_code"):
            # Linked before: stay linked. pssync's own draft goes through the handoff again
            # (a rerun is idempotent there, and replays a failed step).
            return None if p["id"] == own else p
    chosen = pick(opp, candidates(opp, [v.payload for v in versions.values()]))
    if chosen is None:
        return None
    project = {**chosen, "opportunity_id": opportunity_id}
    version = versions[project["id"]]
    write(runtime, "Project", project, valid_from=version.valid_from, correlation_id=correlation_id)
    return project


def _why_unlinked(runtime: Any, opp: dict[str, Any]) -> str:
    if payload(runtime, "Account", str(opp.get("account_id"))) is None:
        return (
            f"its account {opp.get('account_id')} is not in the golden store (held back at "
            "its source: see that account's exception), so no ERP project can be matched"
        )
    found = candidates(opp, [v.payload for v in runtime.store.iter_records("Project")])
    if found:
        codes = ", ".join(sorted(str(p.get("project_code")) for p in found))
        return (
            f"{len(found)} ERP projects of its customer carry its name ({codes}) and their "
            "dates do not tell which is its"
        )
    return "no ERP project of its customer carries its name"


@DBOS.step()
def too_old_step(opportunity_id: str) -> bool:
    """Raise why a deal won before the look-back window cannot be handed off; True if so."""
    from pssync.flows.triggers import current as triggers

    runtime = current()
    opp = payload(runtime, "Opportunity", opportunity_id) or {}
    if triggers().may_create(opp):
        return False
    runtime.exceptions.raise_(
        NewException(
            category="won_without_erp_project",
            message=f"{opp.get('name')}: won on {opp.get('close_date')}, before the handoff "
            f"look-back, and {_why_unlinked(runtime, opp)}; create or link the project in the "
            "ERP, or widen closed_won_handoff.lookback_days",
            entity_type="Opportunity",
            record_id=opportunity_id,
            details={"field": "project_code", "stage": "handoff", "opportunity_id": opportunity_id},
            payload=opportunity_id,
        ),
        actor="flows",
    )
    return True
