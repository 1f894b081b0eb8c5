"""What the closed-won handoff writes into SAP S/4HANA: the request bodies and their keys.

* The customer: an ``A_BusinessPartner`` (an organisation, keyed by
  ``BusinessPartnerIDByExtSystem``) created in one deep insert with its grouping, its customer
  roles (FLCU00 financial accounting, FLCU01 sales) and its customer data for the company code
  (``to_Customer`` / ``to_CustomerCompany`` with the payment terms), as API_BUSINESS_PARTNER's
  documentation creates a customer; a partner without those roles cannot be invoiced.
* The project: ``A_EnterpriseProject`` keyed by its ``Project`` ID (the project code), naming
  the customer by the partner's GUID (``CustomerUUID``).
* Milestones: billing elements (``A_EnterpriseProjectElement`` with
  ``WBSElementIsBillingElement``) due at their date. API_ENTERPRISE_PROJECT_SRV has no amount on
  an element, so the amounts stay in the golden milestones (the contract's billing plan lives in
  the sales order, which pssync does not write).

The flow (``pssync.flows.erp_targets``) turns these into delivery commands; nothing here knows
about flows, so the connector stays below them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pssync.connectors.kit.handoff import VendorWrite, project_dates

if TYPE_CHECKING:
    from pssync.connectors.sap_s4.service import SapService

# The customer roles a partner needs to be invoiced: FI customer and sales customer.
CUSTOMER_ROLES = ("FLCU00", "FLCU01")


class SapHandoff:
    """Bodies for one company code; `vendor_value` reverses a crosswalk of the mapping."""

    holds_milestones = True
    customer_id_length = 20  # BusinessPartnerIDByExtSystem holds 20 characters

    def __init__(
        self,
        connector: SapService,
        company_code: str,
        vendor_value: Callable[[str, Any], Any],
    ) -> None:
        self.connector = connector
        self.company_code = company_code
        self.vendor_value = vendor_value

    def customer(
        self,
        account: dict[str, Any],
        opp: dict[str, Any],
        external_id: str,
        entity: dict[str, Any] | None,
    ) -> VendorWrite:
        name = str(account.get("legal_name") or account.get("name") or "")
        company: dict[str, Any] = {"CompanyCode": self.company_code}
        terms = self.vendor_value("payment_terms", account.get("payment_terms"))
        if terms is not None:
            company["PaymentTerms"] = terms
        body = {
            "BusinessPartnerCategory": "2",  # an organisation
            "BusinessPartnerGrouping": self.connector.config.customer_grouping,
            "OrganizationBPName1": name[:40],
            "SearchTerm1": str(account.get("name") or name).upper()[:20],
            "to_BusinessPartnerRole": [{"BusinessPartnerRole": r} for r in CUSTOMER_ROLES],
            "to_Customer": {"to_CustomerCompany": [company]},
        }
        return VendorWrite("A_BusinessPartner", "BusinessPartnerIDByExtSystem", external_id, body)

    def customer_ref(self, customer_id: str) -> str | None:
        """Projects name their customer by the partner's GUID."""
        return self.connector.partner_uuid(customer_id)

    def project(
        self,
        opp: dict[str, Any],
        project: dict[str, Any],
        code: str,
        customer_ref: str,
        external_id: str,
    ) -> VendorWrite:
        """Keyed by the project code, SAP's own project ID (not `external_id`)."""
        start, end = project_dates(project, opp)
        body = {
            "ProjectDescription": str(project["name"])[:60],
            "ProjectStartDate": start,
            "ProjectEndDate": end,
            "CompanyCode": self.company_code,
            "ProjectCurrency": opp["amount"]["currency"],
            "CustomerUUID": customer_ref,
            "EnterpriseProjectType": "C1",  # customer project
            "IsBillingRelevant": True,
        }
        return VendorWrite("A_EnterpriseProject", "Project", code, body)

    def milestones(
        self, plan: list[dict[str, Any]], project_id: str, code: str, external_ids: list[str]
    ) -> list[VendorWrite]:
        """Keyed by element IDs under the project code (`external_ids` are not used)."""
        return [
            VendorWrite(
                "A_EnterpriseProjectElement",
                "ProjectElement",
                f"{code}-M{index}",
                {
                    "ProjectUUID": project_id,
                    "ProjectElementDescription": str(m["name"])[:60],
                    "PlannedEndDate": m["due_date"],
                    "WBSElementIsBillingElement": True,
                },
            )
            for index, m in enumerate(plan, start=1)
        ]
