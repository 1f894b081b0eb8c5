"""Facts no source system of the firm records.

Some canonical fields have one keeper: a system of one role (an ERP keeps a customer's
registered name, terms of payment and standing as a customer). On a record no system of that
role holds — a CRM prospect, nobody's customer in an ERP yet — the truth may still have a value
for such a field, but no system does: pssync cannot carry it, and no exception is due, since
nothing is wrong in any system. The check does not call it a defect, nor hides it: it counts
it apart ("not recorded by any source system"), field by field, with the reason below.

The table is short on purpose and each entry says why: a field a system of the firm does hold
(a Kantata workspace, a NetSuite job) is pssync's to carry, and stays a defect until it does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pssync.config.init_file import CHOICES
from pssync.fidelity.truth import SourceKey

#: The role of each built-in system (its vendor records in the xref map name the system).
ROLE_OF_SYSTEM = {system: role for role, systems in CHOICES.items() for system in systems}


@dataclass(frozen=True)
class KeptBy:
    role: str  # the only role of system that records the field
    absent: tuple[Any, ...]  # what golden holds when no system of that role knows the record
    why: str


KEPT_ONLY_BY: dict[tuple[str, str], KeptBy] = {
    ("Account", "legal_name"): KeptBy(
        "erp",
        (None, ""),
        "the registered name is the ERP customer's (NetSuite companyName, SAP "
        "OrganizationBPName1); a Salesforce Account records the trading name only",
    ),
    ("Account", "payment_terms"): KeptBy(
        "erp",
        (None, ""),
        "terms of payment are agreed on the ERP customer (NetSuite terms, SAP "
        "A_CustomerCompany.PaymentTerms); a Salesforce Account has no such field",
    ),
    ("Account", "status"): KeptBy(
        "erp",
        ("prospect",),
        "an account is an active customer once an ERP holds it; until then the only status "
        "any system records is the CRM's Type = Prospect, which golden carries",
    ),
}


def not_recorded(
    entity_type: str, name: str, golden_value: Any, sources: Iterable[SourceKey]
) -> str | None:
    """Why no source system records the truth's value of this field, or None (then the
    difference is pssync's to explain)."""
    kept = KEPT_ONLY_BY.get((entity_type, name))
    if kept is None or golden_value not in kept.absent:
        return None
    if any(ROLE_OF_SYSTEM.get(system) == kept.role for system, _obj, _id in sources):
        return None
    return kept.why
