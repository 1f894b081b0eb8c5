"""The firm's ServiceNow instance: the teams that fix what goes wrong, as assignment groups.

pssync opens an incident for an exception and assigns it to the owner's group, which ServiceNow
holds as a reference to a `sys_user_group` row (Table API: reference fields carry the group's
sys_id). A firm's instance has its teams before any integration exists, so the synthetic firm
brings them: the deal desk, sales and finance operations, tax, master data, resource management
and the integration team — the owners a firm would route pssync's exception categories to.
"""

from __future__ import annotations

import hashlib

from pssync.sandbox.firm.state import Firm

SYSTEM = "servicenow"
# (group name, what the team does), as the firm names them.
TEAMS = (
    ("deal-desk", "Deal structure, pricing and the CRM's commercial data"),
    ("sales-ops", "Pipeline hygiene: stages, close dates, forecast categories"),
    ("finance-ops", "Legal entities, billing rules and the ERP's customer master"),
    ("tax-team", "Tax codes and registrations"),
    ("mdm-team", "Customer master data: duplicates and merges"),
    ("resource-managers", "Staffing, capacity and delivery dates"),
    ("integration-team", "Interfaces between the CRM, the PSA and the ERPs"),
)


def sys_id(name: str) -> str:
    """A stable 32-hex sys_id per group, so every run of one firm names the same groups."""
    return hashlib.sha256(f"sys_user_group:{name}".encode()).hexdigest()[:32]


def build(firm: Firm) -> None:
    for name, description in TEAMS:
        row = {"sys_id": sys_id(name), "name": name, "description": description}
        firm.add_view(SYSTEM, "sys_user_group", None, row)
