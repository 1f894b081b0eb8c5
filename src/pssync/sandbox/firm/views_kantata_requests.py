"""Kantata's staffing demand: an unnamed workspace resource per sold role and its resource request.

This is how a Kantata firm asks for people before it names them (Kantata's Workspace Resources
reference: "Unnamed Resources: Resources with no user_id"; Resource Requests: "a method for a
requestor to ask an approver to staff a resource"). The request is pending until the deal is won
and the project starts, then approved. Kantata computes a resource's ``total_allocated_minutes``
and ``earliest_``/``latest_allocation_date`` from its allocations; the sandbox seeds them as the
sold hours and the project's planned dates, which is what the generator's truth records as the
ResourceRequest (one per project and role, the later line of a role winning, as in its history).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pssync.sandbox.firm import canonical
from pssync.sandbox.firm.ids import digits_id
from pssync.sandbox.firm.state import Firm
from pssync.sandbox.firm.units import at, iso

SYSTEM = "kantata"
# Own ID ranges, so adding these shifts no other Kantata ID (the book counts per key).
REQUEST_BASE, UNNAMED_BASE = 77_000_000, 12_900_000


def _approver(firm: Firm) -> str | None:
    managers = [p for p in firm.people if p.role == "EM"] or list(firm.people)
    return firm.xrefs.get(managers[0].id, "kantata:users") if managers else None


def build(firm: Firm) -> None:
    """Add the unnamed resources and resource requests of every project to the view."""
    cutoff = at(firm.today)
    approver = _approver(firm)
    n = 0
    for p in firm.projects:
        opp = firm.opps[p.opp]
        active_at = None if p.won_at is None else p.won_at + dt.timedelta(days=1)
        started = active_at is not None and active_at < cutoff
        made = iso(p.draft_at)
        changed = iso(active_at) if started and active_at is not None else made
        by_role = {li.role: li.hours for li in opp.lines}
        for role, hours in by_role.items():
            n += 1
            truth = canonical.resource_request(firm, p, role, hours, "open")
            wr_key = f"{truth['id']}/resource"
            resource: dict[str, Any] = {
                "id": firm.xrefs.issue(
                    wr_key, "kantata:workspace_resources", digits_id(UNNAMED_BASE, n)
                ),
                "workspace_id": firm.xrefs.get(p.id, "kantata:workspaces"),
                "user_id": None,
                "role_id": firm.xrefs.get(f"role-{role.lower()}", "kantata:roles"),
                "role_name": firm.ref.role(role).name,
                "total_allocated_minutes": hours * 60,
                "earliest_allocation_date": p.planned_start.isoformat(),
                "latest_allocation_date": p.planned_end.isoformat(),
                "created_at": made,
                "updated_at": made,
            }
            firm.add_view(SYSTEM, "workspace_resources", wr_key, resource)
            firm.add_view(
                SYSTEM,
                "resource_requests",
                truth["id"],
                {
                    "id": firm.xrefs.issue(
                        truth["id"], "kantata:resource_requests", digits_id(REQUEST_BASE, n)
                    ),
                    "resource_id": resource["id"],
                    "status": "approved" if started else "pending",
                    "creator_id": approver,
                    "approver_ids": [approver] if approver else [],
                    "created_at": made,
                    "updated_at": changed,
                },
            )
