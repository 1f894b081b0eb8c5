"""Reconciliation: compare a system's full snapshot with the golden store, page by page.

Change capture can miss things (a webhook lost, a cursor reset, a bulk update that bypassed
the change stamps, a hard delete the API never reports). Reconciliation reads everything,
one DBOS workflow per page so a million rows are a few hundred workflows, and sorts each
record into: in step, missing from the golden store (a missed change), drifted (a mapped field
differs), or — after the last page — golden records linked to the system that it no longer
has (hard deletes). With ``repair`` the missed and drifted records are applied through the
normal pipeline (tagged with the run, so the inbox does not take them for duplicates) and hard
deletes are recorded; without it each finding is raised as an exception with an owner.

Where the connector gives its snapshot as columns and the object's mapping is plain, the whole
snapshot is compared with the golden store column-wise first (`reconcile_columns`,
docs/decisions/0007) and only the records that differ are compared here. Otherwise records
found in step leave a digest (`reconcile_digest`, docs/decisions/0005); on later runs a record
whose source data, mapping and golden version are all unchanged since is counted in step from a
batch read, and only the rest are compared in full.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS, SetWorkflowID
from sqlalchemy import select

from pssync.connectors.base import SourceRecord
from pssync.engine.pipeline import PagePipeline
from pssync.engine.reconcile_columns import compare_columns
from pssync.engine.reconcile_digest import mapping_fingerprint, remember, unchanged
from pssync.engine.records import source_record
from pssync.engine.runtime import Runtime, current
from pssync.engine.workflows import enqueue_deliveries
from pssync.mapping.translator import TranslationError, Translator
from pssync.model import CanonicalValidationError, parse_record
from pssync.store.history import utcnow
from pssync.store.lookup import latest, links_of, live_payloads, resolve_xrefs
from pssync.store.problems import NewException
from pssync.store.tables import xref

# Records compared in full per durable workflow (a snapshot page's worth).
_COMPARE_BATCH = 1000
# Linked records whose live versions one batch read checks for hard deletes.
_DELETE_BATCH = 5000


@dataclass
class ReconcileReport:
    system: str
    object: str
    run_id: str
    pages: int = 0
    checked: int = 0
    in_step: int = 0
    missing: list[str] = field(default_factory=list)
    drift: dict[str, list[str]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    untranslatable: list[str] = field(default_factory=list)
    repaired: int = 0
    raised: int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def compare(
    runtime: Runtime, system: str, obj: str, record: dict[str, Any]
) -> tuple[str, list[str]]:
    """("missing" | "drift" | "in_step" | "untranslatable", drifted fields) for one record.

    Two queries (its xref, its golden version); `compare_page` gives the same verdicts for a
    whole page from two batch reads."""
    translator = runtime.translator(system)
    entity_type = translator.object_map(obj).entity
    found = runtime.store.resolve_xref(system, obj, str(record["id"]))
    version = None if found is None else runtime.store.get(entity_type, found[1])
    golden = None if version is None else version.payload
    judged = _verdict(translator, entity_type, obj, record, golden)
    return _references_resolved(runtime, system, [judged])[0]


def compare_page(
    runtime: Runtime, system: str, obj: str, records: list[dict[str, Any]]
) -> list[tuple[str, list[str]]]:
    """`compare` of each record, in order, from one batch read of the page's xrefs and one of
    their golden versions (a page of 500 is a handful of statements, not 1,000 queries)."""
    translator = runtime.translator(system)
    entity_type = translator.object_map(obj).entity
    engine = runtime.store.engine
    found = resolve_xrefs(engine, system, obj, (str(r["id"]) for r in records))
    goldens = live_payloads(engine, ((entity_type, rid) for _, rid in found.values()))
    judged = []
    for record in records:
        hit = found.get(str(record["id"]))
        golden = _loads(None if hit is None else goldens.get((entity_type, hit[1])))
        judged.append(_verdict(translator, entity_type, obj, record, golden))
    return _references_resolved(runtime, system, judged)


def _references_resolved(
    runtime: Runtime, system: str, judged: list[Judged]
) -> list[tuple[str, list[str]]]:
    """The verdicts without the drift of a reference field: the source names a record by its
    own ID (a Salesforce AccountId, an ERP customer number) where the golden record holds the
    canonical ID the sync resolved it to through the xref map (governance.references). Such
    a field is in step when the xref map links the source's ID to the golden value; one read
    for the page."""
    values = {value for _, _, pairs in judged for _, value, _ in pairs}
    if not values:
        return [(verdict, drifted) for verdict, drifted, _ in judged]
    # Xrefs are kept under the object or, for some, the entity type (as references.py asks).
    maps = runtime.translator(system).spec.objects
    objects = [*maps, *(m.entity for m in maps.values())]
    linked = links_of(runtime.store.engine, system, objects, values)
    out: list[tuple[str, list[str]]] = []
    for verdict, drifted, pairs in judged:
        resolved = {name for name, value, held in pairs if held in linked.get(value, ())}
        left = [name for name in drifted if name not in resolved]
        out.append(
            (verdict, drifted)
            if verdict != "drift"
            else ("drift", left)
            if left
            else ("in_step", [])
        )
    return out


def _loads(text: str | None) -> dict[str, Any] | None:
    return None if text is None else dict(json.loads(text))


# A verdict, the drifted fields, and of those the (field, source value, golden value) pairs
# that are both strings: a reference the golden record may hold resolved.
Judged = tuple[str, list[str], list[tuple[str, str, str]]]


def _verdict(
    translator: Translator,
    entity_type: str,
    obj: str,
    record: dict[str, Any],
    golden: dict[str, Any] | None,
) -> Judged:
    """The verdict on `record` against its golden payload (None: the store has none)."""
    try:
        fields = translator.to_canonical(obj, record["data"])
    except TranslationError:
        return "untranslatable", [], []
    if golden is None:
        return "missing", [], []
    try:
        merged = parse_record(entity_type, {**golden, **fields}).model_dump(mode="json")
    except CanonicalValidationError:
        return "untranslatable", [], []
    # `xrefs` a mapping delivers are identity evidence (the CRM ID an ERP customer carries),
    # which the xref map already holds; they are not content that can drift.
    drifted = sorted(k for k in fields if k != "xrefs" and merged.get(k) != golden.get(k))
    pairs = [
        (k, fields[k], golden[k])
        for k in drifted
        if isinstance(fields[k], str) and isinstance(golden.get(k), str)
    ]
    return ("drift", drifted, pairs) if drifted else ("in_step", [], [])


@DBOS.step()
def reconcile_page_step(
    system: str, obj: str, records: list[dict[str, Any]], run_id: str, repair: bool
) -> dict[str, Any]:
    runtime = current()
    out: dict[str, Any] = {
        "missing": [],
        "drift": {},
        "in_step": 0,
        "untranslatable": [],
        "repaired": 0,
        "raised": 0,
    }
    to_apply, in_step, findings = [], [], []
    verdicts = compare_page(runtime, system, obj, records)
    for record, (verdict, fields) in zip(records, verdicts, strict=True):
        source_id = str(record["id"])
        if verdict == "in_step":
            out["in_step"] += 1
            in_step.append(record)
            continue
        if verdict == "untranslatable":
            out["untranslatable"].append(source_id)
            continue
        if verdict == "missing":
            out["missing"].append(source_id)
        else:
            out["drift"][source_id] = fields
        if repair:
            to_apply.append({**record, "tag": f"reconcile-{run_id}"})
        else:
            findings.append(_finding(system, obj, source_id, verdict, fields, record))
    out["raised"] = len(runtime.exceptions.raise_many(findings, actor="reconcile"))
    remember(runtime, system, obj, in_step, mapping_fingerprint(runtime, system, obj))
    if to_apply:
        result = PagePipeline(runtime, system, obj).run(to_apply, f"reconcile:{run_id}")
        out["repaired"] = result.counts().get("applied", 0)
        out["commands"] = result.commands
    return out


def _finding(
    system: str, obj: str, source_id: str, verdict: str, fields: list[str], record: dict[str, Any]
) -> NewException:
    message = (
        f"{system} {obj} {source_id} is not in the golden store (a missed change)"
        if verdict == "missing"
        else f"{system} {obj} {source_id} differs from the golden store in {', '.join(fields)}"
    )
    return NewException(
        category="drift",
        message=message,
        system=system,
        object=obj,
        source_id=source_id,
        details={"kind": verdict, "fields": fields},
        payload=json.dumps({"system": system, "object": obj, "record": record}, default=str),
    )


@DBOS.workflow()
def reconcile_page(
    system: str, obj: str, records: list[dict[str, Any]], run_id: str, repair: bool
) -> dict[str, Any]:
    """One snapshot page: compare, then repair (and deliver what the repairs route) or raise."""
    out = reconcile_page_step(system, obj, records, run_id, repair)
    enqueue_deliveries(out.pop("commands", []), DBOS.workflow_id or "")
    return out


def _serialise(record: SourceRecord) -> dict[str, Any]:
    stamp = record.modified_at.isoformat() if record.modified_at else None
    return source_record(record.id, record.data, stamp)


def reconcile(
    runtime: Runtime, system: str, obj: str, *, repair: bool = False, run_id: str | None = None
) -> ReconcileReport:
    """Compare `system`'s `obj` with the golden store; see the module docstring."""
    run = run_id or uuid.uuid4().hex[:12]
    report = ReconcileReport(system, obj, run)
    columns = compare_columns(runtime, system, obj)
    if columns is not None:  # the columnar path (reconcile_columns)
        report.pages, report.checked, report.in_step = 1, columns.checked, columns.in_step
        for number, batch in enumerate(columns.batches(_COMPARE_BATCH)):
            _compare_batch(report, batch, number, repair)
        _report_deletes(runtime, report, columns.gone, repair)
        return report
    seen: set[str] = set()
    fingerprint = mapping_fingerprint(runtime, system, obj)
    pending: list[dict[str, Any]] = []
    batches = 0
    for page in runtime.connector(system).snapshot(obj):
        records = [_serialise(r) for r in page.records]
        seen.update(r["id"] for r in records)
        report.pages += 1
        report.checked += len(records)
        # Records whose source and golden version are as when last found in step are still
        # in step; the others are compared in workflows of up to _COMPARE_BATCH records, so a
        # few changes scattered over many pages make a few workflows (reconcile_digest).
        todo = unchanged(runtime, system, obj, records, fingerprint)
        report.in_step += len(records) - len(todo)
        pending += todo
        while len(pending) >= _COMPARE_BATCH:
            batch, pending = pending[:_COMPARE_BATCH], pending[_COMPARE_BATCH:]
            _compare_batch(report, batch, batches, repair)
            batches += 1
    if pending:
        _compare_batch(report, pending, batches, repair)
    _hard_deletes(runtime, report, seen, repair)
    return report


def _compare_batch(
    report: ReconcileReport, records: list[dict[str, Any]], number: int, repair: bool
) -> None:
    """Compare `records` in full in one durable workflow and add its findings to `report`."""
    system, obj, run = report.system, report.object, report.run_id
    with SetWorkflowID(f"reconcile:{run}:{system}:{obj}:{number}"):
        out = DBOS.start_workflow(reconcile_page, system, obj, records, run, repair).get_result()
    report.in_step += out["in_step"]
    report.missing += out["missing"]
    report.drift.update(out["drift"])
    report.untranslatable += out["untranslatable"]
    report.repaired += out["repaired"]
    report.raised += out["raised"]


def _hard_deletes(runtime: Runtime, report: ReconcileReport, seen: set[str], repair: bool) -> None:
    """Golden records linked to the system that its snapshot no longer has: the xref map read
    in one pass, their live versions in batches (not one query per linked record)."""
    x = xref.c
    stmt = select(x.entity_type, x.record_id, x.external_id).where(
        x.system == report.system, x.object == report.object
    )
    with runtime.store.engine.connect() as conn:
        gone = [
            (str(r.entity_type), str(r.record_id), str(r.external_id))
            for r in conn.execute(stmt)
            if r.external_id not in seen
        ]
    _report_deletes(runtime, report, gone, repair)


def _report_deletes(
    runtime: Runtime, report: ReconcileReport, gone: list[tuple[str, str, str]], repair: bool
) -> None:
    """Of the linked records the snapshot lacks, those still live are hard deletes."""
    for start in range(0, len(gone), _DELETE_BATCH):
        batch = gone[start : start + _DELETE_BATCH]
        live = latest(runtime.store.engine, ((e, r) for e, r, _ in batch))
        findings = [
            _hard_delete(runtime, report, entity_type, record_id, external_id, repair)
            for entity_type, record_id, external_id in batch
            if (entity_type, record_id) in live
        ]
        raised = runtime.exceptions.raise_many([f for f in findings if f], actor="reconcile")
        report.raised += len(raised)


def _hard_delete(
    runtime: Runtime,
    report: ReconcileReport,
    entity_type: str,
    record_id: str,
    external_id: str,
    repair: bool,
) -> NewException | None:
    """Record one hard delete (with `repair`), or the finding to raise."""
    report.deleted.append(external_id)
    if repair:
        runtime.store.delete(entity_type, record_id, utcnow(), system=report.system)
        report.repaired += 1
        return None
    return NewException(
        category="hard_delete",
        message=f"{report.system} {report.object} {external_id} no longer exists there",
        system=report.system,
        object=report.object,
        source_id=external_id,
        entity_type=entity_type,
        record_id=record_id,
    )
