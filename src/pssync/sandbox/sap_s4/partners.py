"""Business partners as API_BUSINESS_PARTNER creates them: grouping, roles, customer data.

A partner is created with its grouping (``BusinessPartnerGrouping``, which fixes the number
range) and, in one deep insert, its roles (``to_BusinessPartnerRole``) and, for a customer, its
customer data (``to_Customer``, with company-code data in ``to_CustomerCompany``); the API
documentation's "Create business partner with roles" examples send exactly that nesting. The
grouping cannot change later. Customer data needs a customer role (FLCU00 for company-code
data, FLCU01 for sales); the customer then has the partner's number. The groupings below are the
sandbox's customizing (a real system's come from transaction BUC2 / SSCUI 101061).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.sandbox.sap_s4.errors import ODataError

if TYPE_CHECKING:
    from pssync.sandbox.sap_s4.records import Repository

Record = dict[str, Any]

# Grouping -> number assignment ("internal": SAP numbers the partner; "external": the caller).
GROUPINGS = {"BP01": "internal", "BP02": "internal", "BP03": "external"}
DEFAULT_GROUPING = "BP01"
# The roles SAP ships that an integration meets (000000 general, FLCU* customer, FLVN* supplier).
ROLES = {"000000", "BUP001", "BUP002", "FLCU00", "FLCU01", "FLVN00", "FLVN01", "UKM000"}
CUSTOMER_ROLES = {"FLCU00", "FLCU01"}


def check_grouping(record: Record, *, numbered_by_caller: bool) -> None:
    """The grouping exists and its number range fits how the partner got its number."""
    grouping = record.setdefault("BusinessPartnerGrouping", DEFAULT_GROUPING)
    kind = GROUPINGS.get(str(grouping))
    if kind is None:
        raise ODataError(
            400, f"Grouping {grouping} does not exist", target="BusinessPartnerGrouping"
        )
    if kind == "internal" and numbered_by_caller:
        raise ODataError(
            400,
            f"Grouping {grouping} uses internal numbering; do not send BusinessPartner",
            target="BusinessPartner",
        )
    if kind == "external" and not numbered_by_caller:
        raise ODataError(
            400, f"Grouping {grouping} needs an external number", target="BusinessPartner"
        )


def rows(value: Any, nav: str) -> list[Record]:
    """A to-many navigation value: a JSON array or v2's ``{"results": [...]}``."""
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        value = value["results"]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ODataError(400, f"{nav} expects a list of entities", target=nav)
    return value


def create_dependents(repo: Repository, partner: Record, nested: dict[str, Any]) -> Record:
    """Create the roles and customer data of a new partner; the inline response part."""
    from pssync.sandbox.sap_s4.schema import service_of

    service = service_of("A_BusinessPartner")
    number = partner["BusinessPartner"]
    inline: Record = {}
    roles = rows(nested.get("to_BusinessPartnerRole", []), "to_BusinessPartnerRole")
    role_set = service.entity_set("A_BusinessPartnerRole")
    assert role_set is not None
    created_roles = []
    for role in roles:
        code = str(role.get("BusinessPartnerRole") or "")
        if code not in ROLES:
            raise ODataError(400, f"Role {code!r} does not exist", target="BusinessPartnerRole")
        created_roles.append(repo.create(role_set, {**role, "BusinessPartner": number}))
    if "to_BusinessPartnerRole" in nested:
        inline["to_BusinessPartnerRole"] = created_roles
    codes = {str(r["BusinessPartnerRole"]) for r in created_roles}
    customer_data = nested.get("to_Customer")
    if customer_data is not None and not isinstance(customer_data, dict):
        raise ODataError(400, "to_Customer expects one entity", target="to_Customer")
    if codes & CUSTOMER_ROLES:
        inline_customer = _create_customer(repo, partner, dict(customer_data or {}), codes)
        partner["Customer"] = number
        if customer_data is not None:
            inline["to_Customer"] = inline_customer
    elif customer_data is not None:
        raise ODataError(400, "Customer data needs the role FLCU00 or FLCU01", target="to_Customer")
    return inline


def _create_customer(repo: Repository, partner: Record, body: Record, codes: set[str]) -> Record:
    from pssync.sandbox.sap_s4.schema import service_of

    service = service_of("A_Customer")
    customer_set = service.entity_set("A_Customer")
    company_set = service.entity_set("A_CustomerCompany")
    assert customer_set is not None and company_set is not None
    companies = rows(body.pop("to_CustomerCompany", []), "to_CustomerCompany")
    if companies and "FLCU00" not in codes:
        raise ODataError(
            400, "Company code data needs the role FLCU00", target="to_CustomerCompany"
        )
    name = str(partner.get("BusinessPartnerFullName") or "")
    body.update(
        {
            "Customer": partner["BusinessPartner"],
            "CustomerName": body.get("CustomerName") or name[:80],
            "CustomerFullName": name,
        }
    )
    customer = repo.create(customer_set, body, internal=True)
    created = [repo.create(company_set, {**c, "Customer": customer["Customer"]}) for c in companies]
    return {**customer, "to_CustomerCompany": created} if companies else customer
