"""Identity resolution: which golden customer a source record new to pssync already is.

The CRM account and the ERP customer of one company must become one golden record, or every
ERP customer turns up as a "duplicate" of its own CRM account. The rules follow an MDM tool's
match-and-merge, and only *certain* evidence links automatically:

* an explicit cross-reference: the record names its counterpart's ID in another system — an
  ERP customer carrying the CRM account ID it was created for (NetSuite ``externalId``, SAP
  ``BusinessPartnerIDByExtSystem``, the file-drop ERP's ``external_id``), or a CRM account
  carrying its ERP customer ID (``ERP_Customer_Id__c``). Mappings deliver these as
  ``xrefs.<system or role>:<object>`` fields (``xrefs.crm:Account``), never written back;
* the same tax ID with the same normalised name.

A reference to a golden record that already holds a record of the incoming record's system is
not followed: a second customer master in one system for one company is a duplicate for the
MDM team (the duplicate check flags it with candidates and scores), not a silent merge. Nor is
an ambiguous match (two golden records). Probable-but-uncertain matches (similar names, same
domain) stay with `quality.account_checks`, which raises `duplicate_customer`. No match: the
pipeline mints a new record.

Projects, invoices and WBS elements are joined the same way by `links`.

Every automatic link is audited (`audit_log` action ``identified``, with the rule and the
evidence); the xref map and the write's provenance then show both systems on one record.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from pssync.engine.ids import content_digest
from pssync.engine.stages import PageContext
from pssync.governance.duplicates import normalise_name, normalise_tax_id
from pssync.store import audit
from pssync.store.history import utcnow
from pssync.store.tables import xref

ENTITY = "Account"
ROLES = ("crm", "psa", "erp")
# Links made in this process, (store, golden ID, system) -> digest of the linked record's
# fields: a page is written to the store as a whole, so two records of one page naming the same
# account must not both be linked to it (the same record again, a retried page, may).
_claimed: dict[tuple[str, str, str], str] = {}
_lock = threading.Lock()


def resolve_identity(ctx: PageContext, entity_type: str, fields: dict[str, Any]) -> str | None:
    """The golden account a new source customer is certainly the same company as, else None."""
    system = ctx.system
    if entity_type != ENTITY:
        return None
    found = by_reference(ctx, system, fields) or by_tax_id(ctx, system, fields)
    if found is None:
        return None
    record_id, rule, evidence = found
    if not claim(ctx, record_id, system, fields):
        return None
    audit_link(ctx, ENTITY, system, record_id, rule, evidence)
    return record_id


def claim(ctx: PageContext, record_id: str, system: str, fields: dict[str, Any]) -> bool:
    """Claim `record_id` for the record of `system` with `fields`; False when another record of
    that system claimed it in this process (the same record again may)."""
    key = (ctx.store.url_text, record_id, system)
    mark = content_digest(fields)
    with _lock:
        return _claimed.setdefault(key, mark) == mark


def forget() -> None:
    """Drop the in-process claims (tests, or a process that reconfigures)."""
    with _lock:
        _claimed.clear()


def by_reference(
    ctx: PageContext, system: str, fields: dict[str, Any]
) -> tuple[str, str, dict[str, Any]] | None:
    """The golden account an explicit cross-reference in `fields` names (unambiguously)."""
    refs = fields.get("xrefs")
    if not isinstance(refs, dict):
        return None
    found: set[str] = set()
    for key, value in sorted(refs.items()):
        if not value:
            continue
        target, _, obj = str(key).partition(":")
        found |= xref_records(ctx, systems_of(ctx, target), obj, str(value))
        if ctx.store.get(ENTITY, str(value)) is not None:  # pssync's own external ID
            found.add(str(value))
    candidates = [r for r in sorted(found) if free_for(ctx, ENTITY, r, system)]
    if len(candidates) != 1:
        return None
    return candidates[0], "explicit cross-reference", {"references": dict(sorted(refs.items()))}


def by_tax_id(
    ctx: PageContext, system: str, fields: dict[str, Any]
) -> tuple[str, str, dict[str, Any]] | None:
    """The one golden account with the same tax ID and the same normalised name."""
    tax_id = normalise_tax_id(fields.get("tax_id"))
    names = {normalise_name(fields.get(n)) for n in ("name", "legal_name")} - {""}
    if not tax_id or not names:
        return None
    candidates = [
        str(p["id"])
        for p in _accounts_by_tax_id(ctx).get(tax_id, ())
        if names & {normalise_name(p.get(n)) for n in ("name", "legal_name")}
        and free_for(ctx, ENTITY, str(p["id"]), system)
    ]
    if len(candidates) != 1:
        return None
    return candidates[0], "same tax ID and name", {"tax_id": tax_id, "names": sorted(names)}


def _accounts_by_tax_id(ctx: PageContext) -> dict[str, list[dict[str, Any]]]:
    """The golden accounts by normalised tax ID, read once per page (the golden state a page
    sees cannot change before it is written): one read of every account per record made a
    sync's cost grow with the square of its accounts."""
    key = ("identity-accounts-by-tax-id", ENTITY)
    if key not in ctx.memo:
        index: dict[str, list[dict[str, Any]]] = {}
        for version in ctx.store.iter_records(ENTITY):
            found = normalise_tax_id(version.payload.get("tax_id"))
            if found:
                index.setdefault(found, []).append(version.payload)
        ctx.memo[key] = index
    index_: dict[str, list[dict[str, Any]]] = ctx.memo[key]
    return index_


def systems_of(ctx: PageContext, target: str) -> list[str]:
    """A reference's systems: the system it names, or every system playing the role it names."""
    if target in ROLES:
        return sorted(s for s, role in ctx.roles.items() if role == target)
    return [target]


def xref_records(
    ctx: PageContext, systems: Iterable[str], obj: str, value: str, entity: str = ENTITY
) -> set[str]:
    """Golden `entity` records that `systems` know under `value` (any of their objects of
    that entity when the reference names the canonical entity rather than a vendor object)."""
    wanted = list(systems)
    if not wanted:
        return set()
    x = xref.c
    query = select(x.record_id).where(
        x.system.in_(wanted), x.external_id == value, x.entity_type == entity
    )
    if obj and obj != entity:
        query = query.where(x.object == obj)
    with ctx.store.engine.connect() as conn:
        return {str(row.record_id) for row in conn.execute(query)}


def free_for(ctx: PageContext, entity: str, record_id: str, system: str) -> bool:
    """Whether `record_id` exists and holds no record of `system` yet (one customer master per
    company and system; a second one is a duplicate, not the same record)."""
    if ctx.store.get(entity, record_id) is None:
        return False
    held = ctx.store.xrefs(entity, record_id)
    return not any(key.partition(":")[0] == system for key in held)


def audit_link(
    ctx: PageContext,
    entity_type: str,
    system: str,
    record_id: str,
    rule: str,
    evidence: dict[str, Any],
) -> None:
    """Audit an automatic link (`audit_log` action ``identified``, rule and evidence)."""
    entry = audit.AuditEntry(
        at=utcnow(),
        transaction_id=uuid.uuid4().hex,
        actor=system,
        action="identified",
        entity_type=entity_type,
        record_id=record_id,
        changes=audit.to_json({"rule": rule, "evidence": evidence}),
        reason=f"a new {system} {'customer' if entity_type == ENTITY else entity_type} is "
        f"{record_id} ({rule})",
    )
    with ctx.store.engine.begin() as conn:
        audit.append(conn, [entry])
