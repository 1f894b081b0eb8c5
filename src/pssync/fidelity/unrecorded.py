"""Facts no source system of the firm records.

Some canonical fields have one keeper: a system of one role (an ERP keeps a customer's
registered name, terms of payment and standing as a customer). On a record no system of that
role holds — a CRM prospect, nobody's customer in an ERP yet — the truth may still have a value
for such a field, but no system does: pssync cannot carry it, and no exception is due, since
nothing is wrong in any system. The check does not call it a defect, nor hides it: it counts
it apart ("not recorded by any source system"), field by field, with the reason below.

So is a text a vendor caps in length (`CAPPED`), when every system holding the record caps
it: the rest of the text is recorded nowhere; a field no system holding the record has a
place for (`NO_PLACE`: a NetSuite milestone's invoice); and what pssync's handoff wrote for a
project no ERP of the firm held (`handed_off`: the truth's values are the firm's without it).

The tables are short on purpose and each entry says why: a field a system of the firm does hold
(a Kantata workspace, a NetSuite job) is pssync's to carry, and stays a defect until it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pssync.config.init_file import CHOICES
from pssync.config.settings import default_system_of_record
from pssync.fidelity.truth import SourceKey, TruthRecord

#: The role of each built-in system (its vendor records in the xref map name the system).
ROLE_OF_SYSTEM = {system: role for role, systems in CHOICES.items() for system in systems}
#: Who owns which field: pssync's default system-of-record matrix (a role, "*" for all fields).
_OWNERS = default_system_of_record()


def owner_of(entity_type: str, name: str) -> str | None:
    owners = _OWNERS.get(entity_type, {})
    return owners.get(name, owners.get("*"))


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


#: Text fields a vendor caps, in characters: a longer value is recorded cut, and whole by no
#: system when every system holding the record caps it. SAP's sales order item text is 40
#: (API_SALES_ORDER_SRV, A_SalesOrderItem.SalesOrderItemText, MaxLength 40).
CAPPED: dict[tuple[str, str, str], int] = {("sap_s4", "ContractLine", "name"): 40}


#: Fields a vendor has no place for on an object: (system, entity type, field) -> why. When
#: every system holding the record is such a vendor and golden has no value, no system records
#: it.
NO_PLACE: dict[tuple[str, str, str], str] = {
    ("netsuite", "BillingMilestone", "invoice_id"): (
        "NetSuite links an invoice to the sales order it bills, not to the milestone line of "
        "its billing schedule (BillingScheduleMilestone has no invoice)"
    ),
}


def _no_place(entity_type: str, name: str, golden_value: Any, systems: set[str]) -> str | None:
    reasons = {NO_PLACE.get((system, entity_type, name)) for system in systems}
    if golden_value not in (None, "") or not reasons or None in reasons:
        return None
    return "; ".join(sorted(r for r in reasons if r))


def _cut(
    entity_type: str, name: str, truth_value: Any, golden_value: Any, systems: set[str]
) -> str | None:
    caps = {CAPPED.get((system, entity_type, name)) for system in systems}
    if not caps or None in caps or not isinstance(truth_value, str):
        return None
    size = min(c for c in caps if c is not None)
    if len(truth_value) <= size or golden_value != truth_value[:size].rstrip():
        return None
    held = ", ".join(sorted(systems))
    return f"the field holds {size} characters in {held}, the only system holding the record"


def not_recorded(
    entity_type: str,
    name: str,
    truth_value: Any,
    golden_value: Any,
    sources: Iterable[SourceKey],
) -> str | None:
    """Why no source system records the truth's value of this field, or None (then the
    difference is pssync's to explain)."""
    systems = {system for system, _obj, _id in sources}
    found = _cut(entity_type, name, truth_value, golden_value, systems) or _no_place(
        entity_type, name, golden_value, systems
    )
    if found is not None:
        return found
    kept = KEPT_ONLY_BY.get((entity_type, name))
    if kept is None or golden_value not in kept.absent:
        return None
    if any(ROLE_OF_SYSTEM.get(system) == kept.role for system in systems):
        return None
    return kept.why


def handed_off(
    key: tuple[str, str],
    name: str,
    truth: Mapping[tuple[str, str], TruthRecord],
    golden_sources: Mapping[tuple[str, str], set[SourceKey]],
    ids: Mapping[tuple[str, str], str],
) -> str | None:
    """An ERP-owned field of a project no ERP of the firm held (a won deal never handed off)
    which pssync's handoff created, or of its contract: the truth's value is recorded by no
    system; golden holds what the handoff wrote from the deal."""
    entity_type, record_id = key
    if owner_of(entity_type, name) != "erp":
        return None
    payload = truth[key].payload
    project = ("Project", record_id if entity_type == "Project" else str(payload.get("project_id")))
    found, golden_id = truth.get(project), ids.get(project)
    if found is None or golden_id is None:
        return None
    held = {ROLE_OF_SYSTEM.get(system) for system, _obj, _id in found.sources}
    synced = {
        ROLE_OF_SYSTEM.get(s) for s, _obj, _id in golden_sources.get(("Project", golden_id), ())
    }
    if "erp" in held or "erp" not in synced:
        return None
    return (
        "no ERP of the firm held this project (a won deal never handed off); pssync's handoff "
        "created it from the deal, and the truth's value is recorded by no system"
    )
