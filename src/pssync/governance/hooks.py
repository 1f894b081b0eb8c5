"""Governance wired into the ingest pipeline: references, crosswalks, ownership, data quality.

The engine's pipeline knows stages, not rules; this module plugs the rules in (`install`):

* reference resolution (`references`): vendor IDs swapped for canonical ones, and a reference
  that cannot be resolved yet noted and re-pointed once its target is applied;
* crosswalk misses become exceptions naming value, record and crosswalk, in the category of
  whoever fixes that crosswalk (an unknown tax code goes to the tax team, not the integrators);
* identity resolution (`identity.resolve_identity`): an ERP customer that certainly is a CRM
  account already held (an explicit cross-reference, or tax ID and name) joins its golden record
  instead of becoming a "duplicate" of it;
* a system-of-record check: a field the writer does not own is refused (the gate reverts it and
  audits the refusal) *and* raised as a `non_owner_write` exception so somebody sees it — unless
  it is only another spelling of a name ("Coho Energy LLC" for "Coho Energy");
* data-quality flags on accounts (no legal entity, probable duplicates, with candidates and
  scores) and deals (open with a close date long past). Flags do not block the record — the
  golden store should still know the account — and resolve themselves when a later version of
  the record no longer has the problem.

Blocking checks belong to the moment a target needs the data: `block_duplicate_customer` and
`validate_before_handoff` are called by the closed-won flow before an ERP customer is created.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pssync.engine.pipeline import (
    CROSSWALK_CATEGORIES,
    ENRICH_HOOKS,
    GOVERN_HOOKS,
    IDENTITY_HOOKS,
    PAGE_END_HOOKS,
    golden_record,
)
from pssync.engine.runtime import Runtime
from pssync.governance import identity, references
from pssync.governance.duplicates import (
    CustomerProfile,
    DuplicateMatcher,
    Match,
    normalise_name,
)
from pssync.governance.exceptions import ACTIVE, NewException
from pssync.governance.references import (
    note_dangling,
    resolve_references,
    source_of,
    write_dangling,
)
from pssync.governance.validation import HandoffValidator, Violation
from pssync.model import CanonicalRecord
from pssync.store.history import utcnow
from pssync.store.tables import exception_record

# Crosswalk -> the exception category its misses are raised as.
CROSSWALK_OWNERS = {"tax_code": "invalid_tax_code", "legal_entity": "missing_legal_entity"}
STALE_AFTER_DAYS = 60
_POOL_SECONDS = 5.0


def region_from_account(
    runtime: Runtime, system: str, obj: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A deal without a delivery region of its own is delivered in its account's region.

    Salesforce keeps the region on the account (`Region__c`), not the opportunity; the draft
    and the capacity check need it on the deal. A region the CRM sets on the deal wins.
    """
    if runtime.translator(system).object_map(obj).entity != "Opportunity":
        return fields
    if fields.get("region_id") or not fields.get("account_id"):
        return fields
    account = golden_record(runtime, "Account", str(fields["account_id"]))
    region = account.payload.get("region_id") if account is not None else None
    return {**fields, "region_id": region} if region else fields


# Entities whose customer a source may leave implicit in the project (a Kantata invoice names
# its workspaces, not the client the workspace belongs to).
ACCOUNT_FROM_PROJECT = frozenset({"Invoice"})


def account_from_project(
    runtime: Runtime, system: str, obj: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Fill a missing `account_id` from the golden project the record names.

    Runs after `resolve_references`, so `project_id` is canonical when the project is known;
    an unknown project leaves the record as it was (and validation says what is missing).
    """
    entity_type = runtime.translator(system).object_map(obj).entity
    project_id = fields.get("project_id")
    if entity_type not in ACCOUNT_FROM_PROJECT or fields.get("account_id") or not project_id:
        return fields
    project = golden_record(runtime, "Project", str(project_id))
    account = project.payload.get("account_id") if project is not None else None
    return {**fields, "account_id": account} if account else fields


def flag(
    runtime: Runtime,
    category: str,
    system: str | None,
    record: CanonicalRecord,
    field: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    active: bool = True,
) -> None:
    """Raise (or, with `active=False`, auto-resolve) one problem of one record."""
    obj, source_id = source_of(system, record) if system else (None, None)
    payload = record.model_dump(mode="json")
    new = NewException(
        category=category,
        message=message,
        system=system,
        object=obj,
        source_id=source_id,
        entity_type=record.entity_type,
        record_id=record.id,
        region_id=payload.get("region_id"),
        service_line_id=payload.get("service_line_id"),
        details={"field": field, "stage": "govern", **(details or {})},
    )
    if active:
        runtime.exceptions.raise_(new, actor="governance")
        return
    xr = exception_record.c
    with runtime.store.engine.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                select(xr.id).where(
                    xr.fingerprint == new.fingerprint(), xr.state.in_([s.value for s in ACTIVE])
                )
            )
        ]
    for exc_id in ids:
        runtime.exceptions.resolve(exc_id, "auto-resolved: fixed at the source", "governance")


def ownership_check(runtime: Runtime, system: str, record: CanonicalRecord) -> None:
    """Raise `non_owner_write` for the fields the gate is about to refuse."""
    golden = golden_record(runtime, record.entity_type, record.id)
    if golden is None and runtime.policy.fill_gaps:
        return  # nothing golden to protect: the matrix refuses nothing (`OwnershipPolicy.apply`)
    outcome = runtime.policy.apply(
        record.entity_type,
        runtime.role(system),
        record.model_dump(mode="json"),
        None if golden is None else golden.payload,
    )
    for refusal in outcome.refused:
        if _same_name(refusal.field, refusal.attempted, refusal.current):
            continue  # the gate keeps the owner's spelling; nothing for anyone to decide
        flag(
            runtime,
            "non_owner_write",
            system,
            record,
            refusal.field,
            f"{system} tried to change {record.entity_type} {record.id}.{refusal.field} from "
            f"{refusal.current!r} to {refusal.attempted!r}; {refusal.reason}",
            {"owner": refusal.owner, "attempted": refusal.attempted, "kept": refusal.current},
        )


# Name fields where systems legitimately spell one company differently ("Coho Energy" in the
# CRM, "Coho Energy LLC" in the ERP): a refusal that differs only so is audited, not raised.
_NAME_FIELDS = frozenset({"name", "legal_name"})


def _same_name(field: str, attempted: Any, current: Any) -> bool:
    if field not in _NAME_FIELDS or not isinstance(attempted, str) or not isinstance(current, str):
        return False
    return normalise_name(attempted) == normalise_name(current) != ""


@dataclass
class _Pool:
    at: float
    profiles: dict[str, CustomerProfile]


_pools: dict[int, _Pool] = {}


def account_pool(runtime: Runtime) -> dict[str, CustomerProfile]:
    """Customer profiles of the golden accounts, re-read at most every few seconds: a page of
    accounts should not re-read every account once per record."""
    key = id(runtime.store)
    pool = _pools.get(key)
    if pool is None or time.monotonic() - pool.at > _POOL_SECONDS:
        profiles = {
            v.record_id: CustomerProfile.from_account(v.payload)
            for v in runtime.store.iter_records("Account")
        }
        pool = _pools[key] = _Pool(time.monotonic(), profiles)
    return pool.profiles


def duplicate_candidates(
    runtime: Runtime, account: dict[str, Any], matcher: DuplicateMatcher | None = None
) -> list[Match]:
    """Probable duplicates of `account` among the golden accounts, best first."""
    profile = CustomerProfile.from_account(account)
    pool = account_pool(runtime)
    pool[profile.record_id] = profile
    return (matcher or DuplicateMatcher()).candidates(profile, list(pool.values()))


def candidates_detail(matches: list[Match], runtime: Runtime) -> list[dict[str, Any]]:
    pool = account_pool(runtime)
    return [
        {
            "record_id": m.b,
            "name": pool[m.b].display_name if m.b in pool else None,
            "score": m.score,
            "reasons": m.reasons,
        }
        for m in matches
    ]


def account_checks(runtime: Runtime, system: str, record: CanonicalRecord) -> None:
    """Flag accounts without a legal entity and probable duplicate customer masters."""
    if record.entity_type != "Account":
        return
    account = record.model_dump(mode="json")
    name = account.get("name") or record.id
    flag(
        runtime,
        "missing_legal_entity",
        system,
        record,
        "legal_entity_id",
        f"{name} has no legal entity: set the contracting entity on the account in {system}",
        active=not account.get("legal_entity_id"),
    )
    matches = duplicate_candidates(runtime, account)
    detail = candidates_detail(matches, runtime)
    listed = ", ".join(f"{c['name']} ({c['record_id']}, {c['score']:.2f})" for c in detail)
    flag(
        runtime,
        "duplicate_customer",
        system,
        record,
        "name",
        f"{name} looks like a duplicate of: {listed}",
        {"candidates": detail},
        active=bool(matches),
    )


def opportunity_checks(runtime: Runtime, system: str, record: CanonicalRecord) -> None:
    """Flag open deals whose close date is long past (the stage is stale)."""
    if record.entity_type != "Opportunity":
        return
    deal = record.model_dump(mode="json")
    close = dt.date.fromisoformat(deal["close_date"])
    overdue = (utcnow().date() - close).days
    flag(
        runtime,
        "stale_stage",
        system,
        record,
        "stage",
        f"{deal['name']}: still {deal['stage']} but its close date {close} is {overdue} days "
        "past; update the stage or the close date",
        {"close_date": str(close), "days_overdue": overdue},
        active=not deal.get("is_closed") and overdue > STALE_AFTER_DAYS,
    )


def clear_passed(
    runtime: Runtime, opportunity_id: str, stage: str, violations: list[Violation]
) -> list[str]:
    """Resolve the deal's `stage` validation exceptions that validation no longer finds (its
    region arrived with its account, say), so the deal's owner is not left chasing a fixed
    problem; returns their IDs. The handoff's own "no ERP serves this entity" is not a
    validation finding and is left to the handoff."""
    still = {(v.category, v.entity_type, v.record_id, v.field) for v in violations}
    xr = exception_record.c
    with runtime.store.engine.connect() as conn:
        rows = conn.execute(
            select(xr.id, xr.category, xr.entity_type, xr.record_id, xr.details).where(
                xr.payload == opportunity_id,
                xr.category.in_(_VALIDATION_CATEGORIES),
                xr.state.in_([s.value for s in ACTIVE]),
            )
        ).all()
    cleared = []
    for row in rows:
        details = json.loads(row.details or "{}")
        key = (row.category, row.entity_type, row.record_id, details.get("field"))
        if details.get("stage") != stage or key in still:
            continue
        if key[:2] == ("missing_legal_entity", "Opportunity"):
            continue
        runtime.exceptions.resolve(str(row.id), "auto-resolved: the deal now validates", "flows")
        cleared.append(str(row.id))
    return cleared


_VALIDATION_CATEGORIES = (
    "missing_attribute",
    "unmapped_value",
    "missing_legal_entity",
    "invalid_tax_code",
)


def validate_before_handoff(runtime: Runtime, opportunity_id: str) -> list[Violation]:
    """Pre-sync validation of a won deal; every violation raised to its owner (and the ones it
    no longer finds resolved)."""
    violations = HandoffValidator(runtime.store).closed_won_handoff(opportunity_id)
    report_violations(runtime, opportunity_id, "handoff", violations, actor="governance")
    return violations


def report_violations(
    runtime: Runtime,
    opportunity_id: str,
    stage: str,
    violations: list[Violation],
    *,
    actor: str,
    correlation_id: str | None = None,
) -> None:
    """Raise each of a deal's `stage` validation findings to its owner and resolve the ones
    validation no longer finds (`clear_passed`)."""
    clear_passed(runtime, opportunity_id, stage, violations)
    for v in violations:
        runtime.exceptions.raise_(
            NewException(
                category=v.category,
                message=v.message,
                entity_type=v.entity_type,
                record_id=v.record_id,
                details={"field": v.field, "stage": stage, "opportunity_id": opportunity_id},
                payload=opportunity_id,
                correlation_id=correlation_id,
            ),
            actor=actor,
        )


def block_duplicate_customer(
    runtime: Runtime, account: dict[str, Any], opportunity_id: str
) -> list[dict[str, Any]]:
    """Candidates that block creating `account` as a new ERP customer (empty: go ahead).

    An account already linked to a customer in the ERP is not new, so it is never blocked.
    """
    matches = duplicate_candidates(runtime, account)
    if not matches:
        return []
    detail = candidates_detail(matches, runtime)
    listed = ", ".join(f"{c['name']} ({c['record_id']}, score {c['score']:.2f})" for c in detail)
    runtime.exceptions.raise_(
        NewException(
            category="duplicate_customer",
            message=f"{account.get('name')}: not created in the ERP, probable duplicate of "
            f"{listed}; merge the accounts in the CRM or mark them distinct",
            entity_type="Account",
            record_id=str(account["id"]),
            region_id=account.get("region_id"),
            details={
                "field": "name",
                "stage": "handoff",
                "opportunity_id": opportunity_id,
                "candidates": detail,
            },
            payload=opportunity_id,
        ),
        actor="governance",
    )
    return detail


def install() -> None:
    """Plug the hooks into the pipeline (idempotent)."""
    for enrich in (resolve_references, account_from_project, region_from_account):
        if enrich not in ENRICH_HOOKS:
            ENRICH_HOOKS.append(enrich)
    for hook in (ownership_check, account_checks, opportunity_checks, note_dangling):
        if hook not in GOVERN_HOOKS:
            GOVERN_HOOKS.append(hook)
    if identity.resolve_identity not in IDENTITY_HOOKS:
        IDENTITY_HOOKS.append(identity.resolve_identity)
    if write_dangling not in PAGE_END_HOOKS:
        PAGE_END_HOOKS.append(write_dangling)
    CROSSWALK_CATEGORIES.update(CROSSWALK_OWNERS)


def uninstall() -> None:
    """Take the hooks out again (tests, or a process that reconfigures)."""
    for enrich in (resolve_references, account_from_project, region_from_account):
        while enrich in ENRICH_HOOKS:
            ENRICH_HOOKS.remove(enrich)
    for hook in (ownership_check, account_checks, opportunity_checks, note_dangling):
        while hook in GOVERN_HOOKS:
            GOVERN_HOOKS.remove(hook)
    while identity.resolve_identity in IDENTITY_HOOKS:
        IDENTITY_HOOKS.remove(identity.resolve_identity)
    while write_dangling in PAGE_END_HOOKS:
        PAGE_END_HOOKS.remove(write_dangling)
    for crosswalk in CROSSWALK_OWNERS:
        CROSSWALK_CATEGORIES.pop(crosswalk, None)
    identity.forget()
    _pools.clear()
    references.forget()
