"""Governance wired into the ingest pipeline: references, crosswalks, ownership, data quality.

The engine's pipeline knows stages, not rules; this module plugs the rules in (`install`):

* a content enricher resolving source-system references (Salesforce ``AccountId``, NetSuite
  ``parent``) to canonical IDs through the xref map, so a merged record never points at a
  vendor ID; a reference it cannot resolve yet (the account was rejected) is noted
  (`note_dangling`) and the holder re-pointed once the target is applied (`repoint_dangling`);
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

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from pssync.engine.pipeline import (
    CROSSWALK_CATEGORIES,
    ENRICH_HOOKS,
    GOVERN_HOOKS,
    IDENTITY_HOOKS,
    PAGE_END_HOOKS,
    RejectedError,
    golden_record,
    page_fields,
    page_memo,
)
from pssync.engine.routes import AppliedChange
from pssync.engine.runtime import Runtime
from pssync.governance import identity
from pssync.governance.duplicates import (
    CustomerProfile,
    DuplicateMatcher,
    Match,
    normalise_name,
)
from pssync.governance.exceptions import ACTIVE, NewException
from pssync.governance.gate import write_governed
from pssync.governance.validation import HandoffValidator, Violation
from pssync.model import CanonicalRecord, CanonicalValidationError, parse_record
from pssync.store import Change
from pssync.store.history import utcnow
from pssync.store.tables import dangling_reference, exception_record, xref

# Canonical reference fields and the entity they point at (None: the record's own type).
REFERENCE_FIELDS: dict[str, str | None] = {
    "account_id": "Account",
    "opportunity_id": "Opportunity",
    "project_id": "Project",
    "resource_id": "Resource",
    "wbs_element_id": "WbsElement",
    "parent_id": None,
}
# Crosswalk -> the exception category its misses are raised as.
CROSSWALK_OWNERS = {"tax_code": "invalid_tax_code", "legal_entity": "missing_legal_entity"}
STALE_AFTER_DAYS = 60
_POOL_SECONDS = 5.0


def resolve_references(
    runtime: Runtime, system: str, obj: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Swap each vendor reference for the canonical ID the xref map knows for it."""
    entity_type = runtime.translator(system).object_map(obj).entity
    wanted = {
        name: target or entity_type
        for name, target in REFERENCE_FIELDS.items()
        if isinstance(fields.get(name), str)
    }
    if not wanted:
        return fields
    out = dict(fields)
    x = xref.c
    store_key = str(runtime.store.engine.url)
    # Misses are kept for the page being applied only: xrefs are written when it ends.
    unknown = page_memo(runtime)
    if unknown is not None and ("references", system, obj) not in unknown:
        unknown[("references", system, obj)] = True
        _page_references(runtime, system, obj, unknown)
    missing = {}
    for name, target in wanted.items():
        key = (store_key, system, fields[name], target)
        known = _resolved.get(key)
        if known is not None:
            out[name] = known
        elif unknown is None or ("xref-miss", key) not in unknown:
            missing[name] = target
    if not missing:
        return out
    spec = runtime.translator(system).spec
    with runtime.store.engine.connect() as conn:
        for name, target in missing.items():
            key = (store_key, system, fields[name], target)
            where = [x.system == system, x.external_id == fields[name], x.entity_type == target]
            # The objects that hold `target` in this system (and xrefs stored without one)
            # let the (system, object, external ID) index answer; without them the lookup
            # scans every xref of the system, once per reference.
            objects = [o for o, m in spec.objects.items() if m.entity == target]
            if objects:
                where.append(x.object.in_([*objects, target]))
            row = conn.execute(select(x.record_id).where(*where).order_by(x.xref_id)).first()
            if row is not None:
                if len(_resolved) >= _RESOLVED_MAX:
                    _resolved.clear()
                _resolved[key] = row.record_id
                out[name] = row.record_id
            elif unknown is not None:
                unknown[("xref-miss", key)] = True
    return out


def _page_references(runtime: Runtime, system: str, obj: str, unknown: dict[Any, Any]) -> None:
    """Resolve the references of every record of the page being applied, one query per
    referenced entity: hits join `_resolved`, misses are noted in the page's memo."""
    page = page_fields(runtime)
    if page is None or page[:2] != (system, obj):
        return
    translator = runtime.translator(system)
    entity_type = translator.object_map(obj).entity
    store_key = str(runtime.store.engine.url)
    wanted: dict[str, set[str]] = {}
    for fields in page[2]:
        for name, target in REFERENCE_FIELDS.items():
            value = fields.get(name)
            entity = target or entity_type
            if isinstance(value, str) and (store_key, system, value, entity) not in _resolved:
                wanted.setdefault(entity, set()).add(value)
    x = xref.c
    with runtime.store.engine.connect() as conn:
        for target, values in wanted.items():
            objects = [o for o, m in translator.spec.objects.items() if m.entity == target]
            ids, found = sorted(values), dict[str, str]()
            for start in range(0, len(ids), 500):
                where = [
                    x.system == system,
                    x.entity_type == target,
                    x.external_id.in_(ids[start : start + 500]),
                ]
                if objects:
                    where.append(x.object.in_([*objects, target]))
                stmt = select(x.external_id, x.record_id).where(*where).order_by(x.xref_id)
                for row in conn.execute(stmt):
                    found.setdefault(str(row.external_id), str(row.record_id))
            for value in ids:
                key = (store_key, system, value, target)
                if value in found:
                    if len(_resolved) >= _RESOLVED_MAX:
                        _resolved.clear()
                    _resolved[key] = found[value]
                else:
                    unknown[("xref-miss", key)] = True


# Found references (store, system, vendor ID, entity) -> canonical ID. An xref never changes
# once made, so only hits are kept; a miss is asked again (the record may arrive later). The
# time entries of an initial sync name the same projects and people thousands of times.
_resolved: dict[tuple[str, str, str, str], str] = {}
_RESOLVED_MAX = 200_000


def note_dangling(runtime: Runtime, system: str, record: CanonicalRecord) -> None:
    """Remember the vendor IDs `record` still holds because the xref map did not know them
    (its account was rejected, or is not read yet), so `repoint_dangling` can re-point it
    once that record is applied. Only misses are written: a resolved reference costs nothing."""
    memo = page_memo(runtime)
    if memo is None:
        return
    store_key = memo.get(("note_dangling", "store"))
    if store_key is None:  # rendering the URL costs more than the rest of the check
        store_key = memo[("note_dangling", "store")] = str(runtime.store.engine.url)
    found = []
    for name, target in REFERENCE_FIELDS.items():
        value = getattr(record, name, None)
        entity = target or record.entity_type
        if not isinstance(value, str) or ("xref-miss", (store_key, system, value, entity)) not in (
            memo
        ):
            continue
        if golden_record(runtime, entity, value) is None:  # not a canonical ID either
            found.append((name, value, entity))
    if not found:
        return
    obj, _ = source_of(system, record)
    if obj is None:
        return
    pending = memo.setdefault(_PENDING, {})
    for name, value, entity in found:
        pending[(record.entity_type, record.id, name)] = (system, value, entity, obj)


_PENDING = ("note_dangling", "pending")


def write_dangling(runtime: Runtime) -> None:
    """Write the references `note_dangling` collected in this page: one read of what is noted
    already and one transaction, per page (a time entry per record made it one commit each)."""
    memo = page_memo(runtime)
    pending: dict[tuple[str, str, str], tuple[str, str, str, str]] = (
        memo.pop(_PENDING, None) or {} if memo is not None else {}
    )
    if not pending:
        return
    d = dangling_reference.c
    by_type: dict[str, list[str]] = {}
    for holder_type, holder_id, _ in pending:
        by_type.setdefault(holder_type, []).append(holder_id)
    noted: dict[tuple[str, str, str], tuple[str, str, str, str]] = {}
    columns = (
        d.holder_type,
        d.holder_id,
        d.field,
        d.system,
        d.external_id,
        d.entity_type,
        d.object,
    )
    with runtime.store.engine.connect() as conn:  # a re-read deal is noted already: no write
        for holder_type, ids in by_type.items():
            unique = sorted(set(ids))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                for r in conn.execute(
                    select(*columns).where(d.holder_type == holder_type, d.holder_id.in_(chunk))
                ):
                    key = (r.holder_type, r.holder_id, r.field)
                    noted[key] = (r.system, r.external_id, r.entity_type, r.object)
    todo = {k: v for k, v in pending.items() if noted.get(k) != v}
    if not todo:
        return
    now = utcnow()
    rows = [
        {
            "system": system,
            "external_id": value,
            "entity_type": entity,
            "holder_type": holder_type,
            "holder_id": holder_id,
            "object": obj,
            "field": name,
            "noted_at": now,
        }
        for (holder_type, holder_id, name), (system, value, entity, obj) in todo.items()
    ]
    try:
        with runtime.store.engine.begin() as conn:
            for holder_type, holder_id, name in todo:
                if (holder_type, holder_id, name) in noted:  # the reference changed: replace it
                    conn.execute(
                        delete(dangling_reference).where(
                            d.holder_type == holder_type,
                            d.holder_id == holder_id,
                            d.field == name,
                        )
                    )
            conn.execute(insert(dangling_reference), rows)
    except IntegrityError:  # another worker noted some of them meanwhile: one at a time
        for row in rows:
            try:
                with runtime.store.engine.begin() as conn:
                    conn.execute(
                        delete(dangling_reference).where(
                            d.holder_type == row["holder_type"],
                            d.holder_id == row["holder_id"],
                            d.field == row["field"],
                        )
                    )
                    conn.execute(insert(dangling_reference).values(**row))
            except IntegrityError:
                continue


def repoint_dangling(runtime: Runtime) -> list[AppliedChange]:
    """Re-point the golden records holding a vendor ID that the xref map now knows.

    Each holder gets a new version through the governed write (provenance and audit as for any
    change from its system) with the enrichers run again — the canonical account ID, and the
    region that comes with it — and its governance flags re-checked. Returns the changes made,
    for the caller to route. One query when nothing is dangling, so cheap to run after each
    capture cycle and each replay.
    """
    d = dangling_reference.c
    with runtime.store.engine.connect() as conn:
        noted = conn.execute(select(dangling_reference).order_by(d.id)).all()
        if not noted:
            return []
        known = _known_xrefs(
            runtime, conn, {(r.system, r.entity_type, r.external_id) for r in noted}
        )
    rows = [r for r in noted if (r.system, r.entity_type, r.external_id) in known]
    holders: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        holders.setdefault((str(row.holder_type), str(row.holder_id)), []).append(row)
    changes, done = [], set[int]()
    for (holder_type, holder_id), refs in holders.items():
        golden = runtime.store.get(holder_type, holder_id)
        live = [
            r for r in refs if golden is not None and golden.payload.get(r.field) == r.external_id
        ]
        done |= {int(r.id) for r in refs if r not in live}  # gone, or pointed elsewhere since
        if golden is None or not live:
            continue
        fields = dict(golden.payload)
        for system, obj in dict.fromkeys((str(r.system), str(r.object)) for r in live):
            for enrich in ENRICH_HOOKS:
                fields = enrich(runtime, system, obj, fields)
        if all(fields.get(r.field) == r.external_id for r in live):
            continue  # the xref names another entity's record only; nothing to re-point
        system, obj = str(live[0].system), str(live[0].object)
        try:
            record = parse_record(holder_type, fields)
            for hook in GOVERN_HOOKS:
                hook(runtime, system, record)
        except (CanonicalValidationError, RejectedError):
            continue  # the holder's own exception says why; tried again next time
        _, source_id = source_of(system, record)
        write_governed(
            runtime.store,
            runtime.policy,
            [
                Change(
                    record,
                    max(utcnow(), golden.valid_from),
                    system,
                    f"{system}:{obj}:{source_id or holder_id}",
                )
            ],
            runtime.roles,
            correlation_id=f"repoint:{holder_type}:{holder_id}",
        )
        done |= {int(r.id) for r in live if fields.get(r.field) != r.external_id}
        written = runtime.store.get(holder_type, holder_id) or golden
        changes.append(
            AppliedChange(
                system,
                obj,
                source_id or holder_id,
                holder_type,
                holder_id,
                written.payload,
                f"repoint:{holder_type}:{holder_id}:{written.valid_from.isoformat()}",
            )
        )
    if done:
        with runtime.store.engine.begin() as conn:
            conn.execute(delete(dangling_reference).where(d.id.in_(sorted(done))))
    return changes


def _known_xrefs(
    runtime: Runtime, conn: Connection, wanted: set[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """The (system, entity type, external ID) of `wanted` that the xref map knows now: one query
    per system and entity (and 500 IDs), on the (system, object, external ID) index."""
    groups: dict[tuple[str, str], set[str]] = {}
    for system, entity, external in wanted:
        groups.setdefault((system, entity), set()).add(external)
    x, found = xref.c, set[tuple[str, str, str]]()
    for (system, entity), values in sorted(groups.items()):
        translator = runtime.translators.get(system)
        objects = [
            o
            for o, m in (translator.spec.objects.items() if translator else [])
            if m.entity == entity
        ]
        ids = sorted(values)
        for start in range(0, len(ids), 500):
            where = [
                x.system == system,
                x.entity_type == entity,
                x.external_id.in_(ids[start : start + 500]),
            ]
            if objects:
                where.append(x.object.in_([*objects, entity]))
            for row in conn.execute(select(x.external_id).where(*where)):
                found.add((system, entity, str(row.external_id)))
    return found


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


def source_of(system: str, record: CanonicalRecord) -> tuple[str | None, str | None]:
    """(object, source ID) of `record` in `system`, from its xrefs."""
    for key, value in sorted(record.xrefs.items()):
        sys_name, _, obj = key.partition(":")
        if sys_name == system:
            return obj, value
    return None, None


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
    clear_passed(runtime, opportunity_id, "handoff", violations)
    for v in violations:
        runtime.exceptions.raise_(
            NewException(
                category=v.category,
                message=v.message,
                entity_type=v.entity_type,
                record_id=v.record_id,
                details={"field": v.field, "stage": "handoff", "opportunity_id": opportunity_id},
                payload=opportunity_id,
            ),
            actor="governance",
        )
    return violations


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
    _resolved.clear()
