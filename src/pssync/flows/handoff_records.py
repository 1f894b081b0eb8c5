"""What a handed-off deal becomes: its project code, contract line and billing milestones.

Pure functions of the canonical deal, so the handoff workflow can rebuild them identically on a
rerun (same IDs, same amounts) and tests can check the arithmetic without an ERP: milestones sum
to the contract value to the cent.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pssync.engine.ids import digest
from pssync.planning.periods import add_months, month_end


def project_code(opportunity: dict[str, Any], erp_code: str) -> str:
    """A readable, deterministic project code: legal entity and a digest of the deal."""
    entity = str(opportunity.get("legal_entity_id") or erp_code).removeprefix("le-").upper()
    return f"PRJ-{entity}-{digest(opportunity['id'], length=6).upper()}"


def milestones(
    opportunity: dict[str, Any], contract_id: str, start: dt.date
) -> list[dict[str, Any]]:
    """Milestone billing: equal milestones at each month end of the delivery window; the last
    one takes the rounding so they sum to the contract value to the cent."""
    if opportunity.get("revenue_method") != "milestone":
        return []
    amount = opportunity["amount"]
    total = Decimal(str(amount["amount"]))
    count = max(1, int(opportunity.get("duration_months") or 3))
    share = (total / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    out = []
    for index in range(count):
        value = share if index < count - 1 else total - share * (count - 1)
        out.append(
            {
                "id": f"{contract_id}-m{index + 1}",
                "contract_line_id": contract_id,
                "name": f"Milestone {index + 1} of {count}",
                "due_date": month_end(add_months(start, index)).isoformat(),
                "amount": {"amount": str(value), "currency": amount["currency"]},
            }
        )
    return out


def contract_line(
    opp: dict[str, Any], contract_id: str, project_id: str | None, start: dt.date, end: dt.date
) -> dict[str, Any]:
    """The contract line the ERP bills against: the deal's value and billing rule."""
    return {
        "id": contract_id,
        "account_id": opp["account_id"],
        "project_id": project_id,
        "opportunity_id": opp["id"],
        "name": opp["name"],
        "revenue_method": opp["revenue_method"],
        "amount": opp["amount"],
        "start_date": start.isoformat(),
        "end_date": max(end, start).isoformat(),
        "service_line_id": opp.get("service_line_id"),
        "legal_entity_id": opp.get("legal_entity_id"),
        "billing_rule": opp["revenue_method"],
    }
