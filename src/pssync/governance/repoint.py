"""Re-pointing: records holding a vendor ID the xref map now knows get the canonical one.

`references.note_dangling` notes each reference a page could not resolve. Once a record with
that xref is applied (the account was fixed and replayed, or simply read later), each holder
goes through the page pipeline again (`PagePipeline.revise`: enrich -> govern -> store ->
route), so it gets a new version with provenance and audit as for any change from its system,
its flags are re-checked and its routes deliver it. One query when nothing is dangling, so
cheap to run after each capture cycle and each replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, select

from pssync.engine.ids import content_digest
from pssync.engine.pipeline import PagePipeline, Revision
from pssync.engine.runtime import Runtime
from pssync.engine.workflows import enqueue_deliveries
from pssync.store.tables import dangling_reference, xref


@dataclass
class Repointed:
    """What one re-pointing round did: the records given a new version, their commands."""

    record_ids: list[str] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)


def repoint_dangling(runtime: Runtime) -> Repointed:
    """Run every holder of a now-resolvable reference through the pipeline again; the
    references that are settled (re-pointed, or gone from the holder) are forgotten."""
    d = dangling_reference.c
    with runtime.store.engine.connect() as conn:
        noted = conn.execute(select(dangling_reference).order_by(d.id)).all()
        if not noted:
            return Repointed()
        known = _known_xrefs(
            runtime, conn, {(r.system, r.entity_type, r.external_id) for r in noted}
        )
    rows = [r for r in noted if (r.system, r.entity_type, r.external_id) in known]
    holders: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        holders.setdefault((str(row.holder_type), str(row.holder_id)), []).append(row)
    done: set[int] = set()
    pages: dict[tuple[str, str], list[tuple[Revision, list[Any]]]] = {}
    for (holder_type, holder_id), refs in holders.items():
        golden = runtime.store.get(holder_type, holder_id)
        live = [
            r for r in refs if golden is not None and golden.payload.get(r.field) == r.external_id
        ]
        done |= {int(r.id) for r in refs if r not in live}  # gone, or pointed elsewhere since
        if golden is None or not live:
            continue
        system, obj = str(live[0].system), str(live[0].object)
        source_id = _source_id(golden.payload, system)
        pages.setdefault((system, obj), []).append((Revision(golden, source_id or holder_id), live))
    out = Repointed()
    for (system, obj), items in sorted(pages.items()):
        if system not in runtime.translators:
            continue
        pipeline = PagePipeline(runtime, system, obj)
        stamps = {r.record.record_id: r.record.valid_from.isoformat() for r, _ in items}
        key = content_digest(stamps)
        revised = set(pipeline.revise([r for r, _ in items], f"repoint:{key[:16]}"))
        for revision, live in items:
            if revision.record.record_id not in revised:
                continue
            written = runtime.store.get(revision.record.entity_type, revision.record.record_id)
            now = written.payload if written is not None else {}
            done |= {int(r.id) for r in live if now.get(r.field) != r.external_id}
        out.record_ids += sorted(revised)
        out.commands += pipeline.result.commands
    if done:
        with runtime.store.engine.begin() as conn:
            conn.execute(delete(dangling_reference).where(d.id.in_(sorted(done))))
    return out


def repoint(runtime: Runtime) -> int:
    """`repoint_dangling`, then deliver what the re-pointed records' routes say; how many
    records were re-pointed (the worker cycle's step after each poll)."""
    found = repoint_dangling(runtime)
    if found.commands:
        parent = "repoint:" + content_digest({"records": found.record_ids})[:16]
        enqueue_deliveries(found.commands, parent)
    return len(found.record_ids)


def _known_xrefs(
    runtime: Runtime, conn: Connection, wanted: Iterable[tuple[str, str, str]]
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


def _source_id(payload: dict[str, Any], system: str) -> str | None:
    """The holder's ID in `system`, from its xrefs (as `references.source_of`)."""
    for key, value in sorted((payload.get("xrefs") or {}).items()):
        if key.partition(":")[0] == system:
            return str(value)
    return None
