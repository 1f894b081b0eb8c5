"""What the closed-won handoff writes into the file-drop ERP: CSV batch rows and their keys.

* The customer: a ``customers`` row (name, country, currency, tax ID, payment terms); the
  country falls back to the contracting legal entity's.
* The project: a ``projects`` row naming its customer by the external ID it was sent under,
  with the contract value as ``budget`` and the billing rule as ``billing_method``.
* Milestones: none. The interface has no contract or milestone file, so the contract line and
  milestones stay pssync's record of the plan (golden only).

Rows are keyed by ``external_id``. The flow (``pssync.flows.erp_targets``) turns these into
delivery commands; nothing here knows about flows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pssync.connectors.kit.handoff import VendorWrite, project_dates

# Canonical revenue method -> the file-drop ERP's billing method codes.
BILLING_METHOD = {
    "time_and_materials": "TM",
    "fixed_fee": "FIXED",
    "milestone": "MILESTONE",
    "retainer": "RETAINER",
}


class FileDropHandoff:
    """Rows for the legacy ERP; `external_id_of` finds what a customer was sent under."""

    holds_milestones = False
    customer_id_length = 40

    def __init__(
        self,
        vendor_value: Callable[[str, Any], Any],
        external_id_of: Callable[[str, str], str | None],
    ) -> None:
        self.vendor_value, self.external_id_of = vendor_value, external_id_of

    def customer(
        self,
        account: dict[str, Any],
        opp: dict[str, Any],
        external_id: str,
        entity: dict[str, Any] | None,
    ) -> VendorWrite:
        address = account.get("billing_address") or {}
        body = {
            "name": str(account.get("legal_name") or account.get("name") or "")[:80],
            "country": address.get("country") or (entity or {}).get("country"),
            "currency": account.get("currency") or opp["amount"]["currency"],
            "tax_id": account.get("tax_id"),
            "payment_terms": self.vendor_value("payment_terms", account.get("payment_terms")),
        }
        return VendorWrite("customers", "external_id", external_id, body)

    def customer_ref(self, customer_id: str) -> str | None:
        """Projects name their customer by the external ID it was sent under."""
        return self.external_id_of("customers", customer_id)

    def project(
        self,
        opp: dict[str, Any],
        project: dict[str, Any],
        code: str,
        customer_ref: str,
        external_id: str,
    ) -> VendorWrite:
        start, end = project_dates(project, opp)
        body = {
            "customer_external_id": customer_ref,
            "code": code,
            "name": str(project["name"])[:60],
            "start_date": start,
            "end_date": end,
            "currency": opp["amount"]["currency"],
            "budget": str(opp["amount"]["amount"]),
            "billing_method": BILLING_METHOD.get(str(opp.get("revenue_method"))),
        }
        return VendorWrite("projects", "external_id", external_id, body)

    def milestones(
        self, plan: list[dict[str, Any]], project_id: str, code: str, external_ids: list[str]
    ) -> list[VendorWrite]:
        return []
