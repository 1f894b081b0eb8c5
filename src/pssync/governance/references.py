"""References between records: vendor IDs resolved to canonical IDs, and the late ones.

A source record names others by the source's own IDs (Salesforce ``AccountId``, NetSuite
``parent``). `resolve_references`, an enricher, swaps each for the canonical ID the xref map
knows, so a merged record never points at a vendor ID. A reference it cannot resolve yet (the
account was rejected, or is not read yet) stays the vendor ID and is noted (`note_dangling`,
written once per page by `write_dangling`); once a record with that xref is applied,
`repoint.repoint_dangling` runs each holder through the pipeline again (`PagePipeline.revise`),
so it gets a new version with the canonical ID. `governance.stages` hands these to the engine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from pssync.engine.stages import PageContext
from pssync.model import CanonicalRecord
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


def resolve_references(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Swap each vendor reference for the canonical ID the xref map knows for it."""
    system = ctx.system
    entity_type = ctx.translator(system).object_map(obj).entity
    wanted = {
        name: target or entity_type
        for name, target in REFERENCE_FIELDS.items()
        if isinstance(fields.get(name), str)
    }
    if not wanted:
        return fields
    out = dict(fields)
    x = xref.c
    store_key = ctx.store.url_text
    # Misses are kept for the page being applied only: xrefs are written when it ends.
    unknown = ctx.memo
    if ("references", system, obj) not in unknown:
        unknown[("references", system, obj)] = True
        _page_references(ctx, obj, unknown)
    missing = {}
    for name, target in wanted.items():
        key = (store_key, system, fields[name], target)
        known = _resolved.get(key)
        if known is not None:
            out[name] = known
        elif ("xref-miss", key) not in unknown:
            missing[name] = target
    if not missing:
        return out
    spec = ctx.translator(system).spec
    with ctx.store.engine.connect() as conn:
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
            else:
                unknown[("xref-miss", key)] = True
                unknown[_ANY_MISS] = True
    return out


def _page_references(ctx: PageContext, obj: str, unknown: dict[Any, Any]) -> None:
    """Resolve the references of every record of the page being applied, one query per
    referenced entity: hits join `_resolved`, misses are noted in the page's memo."""
    if obj != ctx.obj:  # a nested line's object, enriched while its parent is applied
        return
    system = ctx.system
    translator = ctx.translator(system)
    entity_type = translator.object_map(obj).entity
    store_key = ctx.store.url_text
    wanted: dict[str, set[str]] = {}
    for fields in ctx.page_fields():
        for name, target in REFERENCE_FIELDS.items():
            value = fields.get(name)
            entity = target or entity_type
            if isinstance(value, str) and (store_key, system, value, entity) not in _resolved:
                wanted.setdefault(entity, set()).add(value)
    x = xref.c
    with ctx.store.engine.connect() as conn:
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


def note_dangling(ctx: PageContext, record: CanonicalRecord) -> None:
    """Remember the vendor IDs `record` still holds because the xref map did not know them
    (its account was rejected, or is not read yet), so `repoint_dangling` can re-point it
    once that record is applied. Only misses are written: a resolved reference costs nothing."""
    memo = ctx.memo
    if _ANY_MISS not in memo:  # every reference of the page resolved
        return
    system = ctx.system
    store_key = ctx.store.url_text
    values = record.__dict__  # not getattr: a field the model lacks costs pydantic an exception
    found = []
    for name, target in REFERENCE_FIELDS.items():
        value = values.get(name)
        entity = target or record.entity_type
        if not isinstance(value, str) or ("xref-miss", (store_key, system, value, entity)) not in (
            memo
        ):
            continue
        if ctx.golden(entity, value) is None:  # not a canonical ID either
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


def write_dangling(ctx: PageContext) -> None:
    """Write the references `note_dangling` collected in this page: one read of what is noted
    already and one transaction, per page (a time entry per record made it one commit each)."""
    pending: dict[tuple[str, str, str], tuple[str, str, str, str]] = (
        ctx.memo.pop(_PENDING, None) or {}
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
    with ctx.store.engine.connect() as conn:  # a re-read deal is noted already: no write
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
        with ctx.store.engine.begin() as conn:
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
                with ctx.store.engine.begin() as conn:
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
