"""Pre-sync validation: the attributes a flow needs before it may hand a record to a target.

Messages are written for the business owner who has to fix them ("Northwind Traders has no
legal entity: set it on the account in the CRM"), each with the category that routes it. The
reference data (legal entities, tax codes, currencies, contacts by account) is indexed once per
validator, so validating a whole pipeline costs one pass over the store.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pssync.store import GoldenStore


@dataclass(frozen=True)
class Violation:
    category: str
    entity_type: str
    record_id: str
    field: str
    message: str


class HandoffValidator:
    def __init__(self, store: GoldenStore) -> None:
        self.store = store

    @cached_property
    def _reference(self) -> dict[str, dict[str, dict[str, Any]]]:
        wanted = ("LegalEntity", "TaxCode", "Currency", "ServiceLine", "Region", "Role")
        return {t: {v.record_id: v.payload for v in self.store.iter_records(t)} for t in wanted}

    @cached_property
    def _billing_contacts(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for version in self.store.iter_records("Contact"):
            contact = version.payload
            if contact.get("is_billing_contact") and contact.get("email"):
                found[contact["account_id"]].append(contact)
        return found

    def _payload(self, entity_type: str, record_id: str) -> dict[str, Any] | None:
        version = self.store.get(entity_type, record_id)
        return None if version is None else version.payload

    def opportunity_to_project(self, opportunity_id: str) -> list[Violation]:
        """What a draft project in the PSA needs: service line, region, start and role mix."""
        found = _Found("Opportunity", opportunity_id)
        opp = self._payload("Opportunity", opportunity_id)
        if opp is None:
            found.add("missing_attribute", "id", "the deal is unknown")
            return found.items
        name, ref = opp.get("name", opportunity_id), self._reference
        if opp.get("service_line_id") not in ref["ServiceLine"]:
            found.add(
                "unmapped_value",
                "service_line_id",
                f"{name}: its service category maps to no service line; choose one in the CRM",
            )
        if opp.get("region_id") not in ref["Region"]:
            found.add(
                "missing_attribute", "region_id", f"{name}: no delivery region; set it in the CRM"
            )
        if not (opp.get("requested_start") or opp.get("close_date")):
            found.add("missing_attribute", "requested_start", f"{name}: no requested start date")
        items = opp.get("line_items") or []
        if not items:
            found.add(
                "missing_attribute",
                "line_items",
                f"{name}: no role mix (lines with role and hours); add them to draft a project",
            )
        elif any(item.get("role_id") not in ref["Role"] for item in items):
            found.add(
                "unmapped_value",
                "line_items.role_id",
                f"{name}: a product line names a role the PSA does not know",
            )
        return found.items

    def closed_won_handoff(self, opportunity_id: str) -> list[Violation]:
        """What the ERP needs (customer, contract, billing) before a won deal is handed over."""
        out = self.opportunity_to_project(opportunity_id)
        opp = self._payload("Opportunity", opportunity_id) or {}
        deal = _Found("Opportunity", opportunity_id)
        deal_name = opp.get("name", opportunity_id)
        currency = (opp.get("amount") or {}).get("currency")
        if currency not in {c.get("code") for c in self._reference["Currency"].values()}:
            deal.add(
                "missing_attribute",
                "amount.currency",
                f"{deal_name}: currency {currency!r} is not set up in the ERP",
            )
        if not opp.get("revenue_method"):
            deal.add(
                "missing_attribute",
                "revenue_method",
                f"{deal_name}: no billing rule (T&M, fixed fee, milestone or retainer)",
            )
        account_id = str(opp.get("account_id", ""))
        account = self._payload("Account", account_id)
        if account is None:
            deal.add(
                "missing_attribute", "account_id", f"{deal_name}: account {account_id!r} is unknown"
            )
            return out + deal.items
        return out + deal.items + self._customer(account_id, account)

    def _customer(self, account_id: str, account: dict[str, Any]) -> list[Violation]:
        found = _Found("Account", account_id)
        name, ref = account.get("name", account_id), self._reference
        legal_entity = ref["LegalEntity"].get(account.get("legal_entity_id") or "")
        if legal_entity is None:
            found.add(
                "missing_legal_entity",
                "legal_entity_id",
                f"{name} has no valid legal entity: set the contracting entity on the account",
            )
        tax_code = ref["TaxCode"].get(account.get("tax_code_id") or "")
        if tax_code is None:
            found.add(
                "invalid_tax_code",
                "tax_code_id",
                f"{name}: tax code {account.get('tax_code_id')!r} is missing or unknown",
            )
        elif legal_entity is not None and tax_code.get("country") != legal_entity.get("country"):
            found.add(
                "invalid_tax_code",
                "tax_code_id",
                f"{name}: tax code {tax_code.get('code')} is for {tax_code.get('country')}, "
                f"but the contracting entity is in {legal_entity.get('country')}",
            )
        if not self._billing_contacts.get(account_id):
            found.add(
                "missing_attribute",
                "billing_contact",
                f"{name} has no billing contact with an e-mail address",
            )
        if not account.get("payment_terms"):
            found.add("missing_attribute", "payment_terms", f"{name} has no payment terms")
        return found.items


@dataclass
class _Found:
    """Violations of one record, collected in order."""

    entity_type: str
    record_id: str

    def __post_init__(self) -> None:
        self.items: list[Violation] = []

    def add(self, category: str, field: str, message: str) -> None:
        self.items.append(Violation(category, self.entity_type, self.record_id, field, message))
