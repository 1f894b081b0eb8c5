"""Links between systems: one firm record, whichever system tells pssync about it first.

A professional-services firm's integrations leave each record a pointer to its counterpart:
the Kantata workspace keeps the Salesforce deal it was opened for (an external reference), the
NetSuite job and the file-drop ERP's project carry the deal's ID as their external ID, and the
ERP invoice carries the PSA invoice it was raised from. Mappings hand these out as
``xrefs.<system or role>:<Entity>`` fields (never written back), as for customers
(`identity`). Two stages read them:

* `foreign_references` (an enricher) fills a reference the source names only by another
  system's ID: a workspace's ``opportunity_id`` from its CRM deal. Within one system
  `references.resolve_references` does this; across systems only the link knows. A deal held
  back at ingest (an open exception about it) still names the canonical ID it will have once
  fixed and replayed: the reference takes that one, so the workspace and the ERP project of a
  held deal still meet as one project, and point at the deal when it arrives.
* `resolve_links` (an identify stage) joins a record new to pssync to the golden record it
  certainly is: a project to the one golden project of the same deal (the PSA workspace and
  the ERP project created by the handoff are one engagement); an invoice to the invoice it
  names, or to the one with the same number on the same project; a WBS element to the one of
  the same name on the same project. As for customers, a golden record that already holds a
  record of the incoming system is never joined (a second one in one system is news for a
  person, not a silent merge), nor is an ambiguous match.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pssync.engine.stages import PageContext
from pssync.governance import identity
from pssync.store.tables import exception_record

OPEN = ("open", "assigned")

# Entity a link names -> the reference field it fills.
LINK_FIELDS = {"Opportunity": "opportunity_id", "Project": "project_id", "Invoice": "invoice_id"}
# Entity types joined by their links (identity resolution beyond customers).
LINKED = frozenset({"Project", "Invoice", "WbsElement"})


def _links(fields: dict[str, Any]) -> list[tuple[str, str, str]]:
    refs = fields.get("xrefs")
    if not isinstance(refs, dict):
        return []
    out = []
    for key, value in sorted(refs.items()):
        target, _, entity = str(key).partition(":")
        if value not in (None, "") and entity:
            out.append((target, entity, str(value)))
    return out


def linked_records(ctx: PageContext, target: str, entity: str, value: str) -> set[str]:
    """Golden `entity` records that the systems `target` names know under `value`."""
    found = identity.xref_records(ctx, identity.systems_of(ctx, target), entity, value, entity)
    if ctx.store.get(entity, value) is not None:  # pssync's own external ID
        found.add(value)
    return found


def foreign_references(ctx: PageContext, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Fill each empty reference field from a link naming that entity in another system."""
    entity_type = ctx.translator(ctx.system).object_map(obj).entity
    out = fields
    for target, entity, value in _links(fields):
        name = LINK_FIELDS.get(entity)
        if name is None or entity == entity_type or fields.get(name) not in (None, ""):
            continue
        found = linked_records(ctx, target, entity, value) or held_back(ctx, target, entity, value)
        if len(found) == 1:
            out = {**out, name: found.pop()}
    return out


def held_back(ctx: PageContext, target: str, entity: str, value: str) -> set[str]:
    """The canonical IDs that open exceptions give the `entity` records the systems `target`
    names hold back under `value` (read once per page: a few hundred rows at most)."""
    index = ctx.memo.get(("links", "held"))
    if index is None:
        x = exception_record.c
        query = select(x.system, x.source_id, x.entity_type, x.record_id).where(
            x.state.in_(OPEN), x.record_id.is_not(None), x.source_id.is_not(None)
        )
        index = {}
        with ctx.store.engine.connect() as conn:
            for row in conn.execute(query):
                key = (str(row.system), str(row.source_id), str(row.entity_type))
                index.setdefault(key, set()).add(str(row.record_id))
        ctx.memo[("links", "held")] = index
    found: set[str] = set()
    for system in identity.systems_of(ctx, target):
        found |= index.get((system, value, entity), set())
    return found


def resolve_links(ctx: PageContext, entity_type: str, fields: dict[str, Any]) -> str | None:
    """The golden record a new project, invoice or WBS element certainly is, else None."""
    if entity_type not in LINKED:
        return None
    system = ctx.system
    candidates: set[str] = set()
    rule = ""
    for target, entity, value in _links(fields):
        if entity == entity_type:
            candidates |= linked_records(ctx, target, entity, value)
            rule = "explicit cross-reference"
    if not candidates and entity_type == "Project" and fields.get("opportunity_id"):
        candidates = _same(ctx, entity_type, {"opportunity_id": fields["opportunity_id"]})
        rule = "same deal"
    if not candidates and entity_type == "Invoice" and fields.get("number"):
        key = {"number": fields["number"], "project_id": fields.get("project_id")}
        candidates = _same(ctx, entity_type, key) if key["project_id"] else set()
        rule = "same number on the same project"
    if not candidates and entity_type == "WbsElement" and fields.get("name"):
        key = {"name": fields["name"], "project_id": fields.get("project_id")}
        candidates = _same(ctx, entity_type, key) if key["project_id"] else set()
        rule = "same name on the same project"
    free = [r for r in sorted(candidates) if identity.free_for(ctx, entity_type, r, system)]
    if len(free) != 1:
        return None
    found = free[0]
    if not identity.claim(ctx, found, system, fields):
        return None
    evidence = {k: fields.get(k) for k in ("opportunity_id", "project_id", "number", "name")}
    identity.audit_link(ctx, entity_type, system, found, rule, evidence)
    return found


def _same(ctx: PageContext, entity_type: str, key: dict[str, Any]) -> set[str]:
    """Golden records of `entity_type` whose fields equal `key`; the index is built once per
    page (a page's records do not see each other: they are written when it ends)."""
    names = tuple(sorted(key))
    memo_key = ("links", entity_type, names)
    index = ctx.memo.get(memo_key)
    if index is None:
        index = {}
        for version in ctx.store.iter_records(entity_type):
            p = version.payload
            values = tuple(str(p.get(n)) for n in names)
            index.setdefault(values, set()).add(str(p["id"]))
        ctx.memo[memo_key] = index
    return set(index.get(tuple(str(key[n]) for n in names), set()))
