"""What the closed-won handoff writes into NetSuite: the request bodies and their keys.

* The customer: a ``customer`` record under its subsidiary, with the payment terms.
* The project: a ``job`` under the customer (``parent``), its ``entityId`` the project code.
* Milestones: ``projecttask`` records marked ``isMilestone`` with their amount.

All are keyed by ``externalId`` and reference each other by internal ID. The flow
(``pssync.flows.erp_targets``) turns these into delivery commands; nothing here knows about
flows, so the connector stays below them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pssync.connectors.kit.handoff import VendorWrite


class NetSuiteHandoff:
    """Bodies for one subsidiary; `vendor_value` reverses a crosswalk of the mapping."""

    holds_milestones = True
    customer_id_length = 40

    def __init__(self, subsidiary: str, vendor_value: Callable[[str, Any], Any]) -> None:
        self.subsidiary, self.vendor_value = subsidiary, vendor_value

    def customer(
        self,
        account: dict[str, Any],
        opp: dict[str, Any],
        external_id: str,
        entity: dict[str, Any] | None,
    ) -> VendorWrite:
        body: dict[str, Any] = {
            "companyName": account.get("legal_name") or account.get("name"),
            "subsidiary": {"id": self.subsidiary},
        }
        terms = self.vendor_value("payment_terms", account.get("payment_terms"))
        if terms is not None:
            body["terms"] = {"id": terms}
        return VendorWrite("customer", "externalId", external_id, body)

    def customer_ref(self, customer_id: str) -> str | None:
        """Jobs name their customer by its internal ID."""
        return customer_id

    def project(
        self,
        opp: dict[str, Any],
        project: dict[str, Any],
        code: str,
        customer_ref: str,
        external_id: str,
    ) -> VendorWrite:
        body = {
            "companyName": project["name"],
            "entityId": code,
            "parent": {"id": customer_ref},
            "subsidiary": {"id": self.subsidiary},
            "startDate": project.get("planned_start"),
            "projectedEndDate": project.get("planned_end"),
            "estimatedRevenue": str(opp["amount"]["amount"]),
            "custentity_billing_rule": opp.get("revenue_method"),
        }
        return VendorWrite("job", "externalId", external_id, body)

    def milestones(
        self, plan: list[dict[str, Any]], project_id: str, code: str, external_ids: list[str]
    ) -> list[VendorWrite]:
        return [
            VendorWrite(
                "projecttask",
                "externalId",
                ext,
                {
                    "title": m["name"],
                    "company": {"id": project_id},
                    "endDate": m["due_date"],
                    "plannedWork": 0,
                    "isMilestone": True,
                    "custevent_milestone_amount": m["amount"]["amount"],
                },
            )
            for m, ext in zip(plan, external_ids, strict=True)
        ]
