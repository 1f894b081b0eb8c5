"""Revenue and cost postings read from SAP's universal journal (API_JOURNALENTRYITEMBASIC_SRV).

Finance reads project actuals as journal entry items on the P&L accounts that carry the project:
recognised revenue on the revenue accounts, costs on the cost accounts (which accounts those
are is the firm's chart of accounts, so they are settings). SAP signs the amounts: a credit is
negative, so revenue comes as a negative amount. Two things are added to each item read:

* ``ReportedAmount``: the amount as finance reports it (revenue and cost both positive);
* ``EnterpriseProjectUUID``: the GUID of the project named by ``ProjectExternalID``, which is
  how the project is known to the cross-system ID map (projects are read keyed by GUID).

Journal entries are never changed once posted (a correction is a new, reversing entry), so the
items are read by posting date. An entry posted later with an earlier posting date is found by
the scheduled reconciliation, as hard deletes are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pssync.connectors.sap_s4.objects import OBJECTS, SapObject

if TYPE_CHECKING:
    from pssync.connectors.sap_s4.connector import SapS4Connector

PROJECT_GUID = "EnterpriseProjectUUID"
REPORTED = "ReportedAmount"


def accounts_clause(connector: SapS4Connector, sap: SapObject) -> str:
    """`$filter` for the G/L accounts of the object's kind of posting."""
    config = connector.config
    accounts = config.revenue_accounts if sap.posting_kind == "revenue" else config.cost_accounts
    quoted = (a.replace("'", "''") for a in accounts)
    return "(" + " or ".join(f"GLAccount eq '{a}'" for a in quoted) + ")"


def enrich(connector: SapS4Connector, sap: SapObject, rows: list[dict[str, Any]]) -> None:
    """Add the reported amount and the project's GUID to journal items read."""
    sign = Decimal(-1) if sap.posting_kind == "revenue" else Decimal(1)
    guids = project_guids(connector, [str(r.get("ProjectExternalID") or "") for r in rows])
    for row in rows:
        amount = row.get("AmountInCompanyCodeCurrency")
        row[REPORTED] = None if amount is None else str(sign * Decimal(str(amount)))
        row[PROJECT_GUID] = guids.get(str(row.get("ProjectExternalID") or ""))


def project_guids(connector: SapS4Connector, projects: list[str]) -> dict[str, str]:
    """ProjectUUID by Project ID, a chunk of IDs per request."""
    project = OBJECTS["A_EnterpriseProject"]
    unique = sorted({p for p in projects if p})
    found: dict[str, str] = {}
    chunk = connector.config.lookup_chunk
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        clause = " or ".join("Project eq '" + p.replace("'", "''") + "'" for p in part)
        rows, _ = connector.fetch(project, top=len(part) * 2 + 1, filter_=clause)
        found.update({str(r["Project"]): str(r["ProjectUUID"]) for r in rows})
    return found
