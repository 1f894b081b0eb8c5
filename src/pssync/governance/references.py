"""References between records: vendor IDs resolved to canonical IDs, and the late ones.

A source record names others by the source's own IDs (Salesforce ``AccountId``, NetSuite
``parent``). `resolve_references`, an enricher, swaps each for the canonical ID the xref map
knows, so a merged record never points at a vendor ID. A reference it cannot resolve yet (the
account was rejected, or is not read yet) stays the vendor ID and is noted (`note_dangling`,
written once per page by `write_dangling`); once a record with that xref is applied,
`repoint_dangling` gives each holder a new version with the canonical ID and its enrichers and
checks run again. `governance.hooks` plugs these into the pipeline.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from pssync.engine.pipeline import (
    ENRICH_HOOKS,
    GOVERN_HOOKS,
    RejectedError,
    golden_record,
    page_fields,
    page_memo,
)
from pssync.engine.routes import AppliedChange
from pssync.engine.runtime import Runtime
from pssync.governance.gate import write_governed
from pssync.model import CanonicalRecord, CanonicalValidationError, parse_record
from pssync.store import Change
from pssync.store.history import utcnow
from pssync.store.tables import dangling_reference, xref

# Canonical reference fields and the entity they point at (None: the record's own type).
REFERENCE_FIELDS: dict[str, str | None] = {
    "account_id": "Account",
    "opportunity_id": "Opportunity",
    "project_id": "Project",
    "resource_id": "Resource",
    "wbs_element_id": "WbsElement",
    "contract_line_id": "ContractLine",
    "invoice_id": "Invoice",
    "parent_id": None,
}


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
    store_key = runtime.store.url_text
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
                unknown[_ANY_MISS] = True
    return out


def _page_references(runtime: Runtime, system: str, obj: str, unknown: dict[Any, Any]) -> None:
    """Resolve the references of every record of the page being applied, one query per
    referenced entity: hits join `_resolved`, misses are noted in the page's memo."""
    page = page_fields(runtime)
    if page is None or page[:2] != (system, obj):
        return
    translator = runtime.translator(system)
    entity_type = translator.object_map(obj).entity
    store_key = runtime.store.url_text
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
                    unknown[_ANY_MISS] = True


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
    if memo is None or _ANY_MISS not in memo:  # every reference of the page resolved
        return
    store_key = runtime.store.url_text
    values = record.__dict__  # not getattr: a field the model lacks costs pydantic an exception
    found = []
    for name, target in REFERENCE_FIELDS.items():
        value = values.get(name)
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
# In the page memo once any reference of the page was not found.
_ANY_MISS = ("xref-miss", "any")


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


def source_of(system: str, record: CanonicalRecord) -> tuple[str | None, str | None]:
    """(object, source ID) of `record` in `system`, from its xrefs."""
    for key, value in sorted(record.xrefs.items()):
        sys_name, _, obj = key.partition(":")
        if sys_name == system:
            return obj, value
    return None, None


def forget() -> None:
    """Drop the resolved references this process remembers (tests, or a reconfiguration)."""
    _resolved.clear()
