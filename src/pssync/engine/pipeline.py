"""The ingest pipeline: translate -> validate -> govern -> golden store -> route.

One call handles a page of source records from one system and object, in source order. Each
record is keyed (inbox), dropped when it is a duplicate, an older version than one already
applied, or pssync's own write coming back (echo); otherwise translated to its canonical
entity, merged over the golden record (a system's view is partial: fields it does not map keep
their golden values), validated, passed through the governance hooks and the system-of-record
matrix, and written with provenance and audit. Routes turn every applied change into outbound
commands. Records that cannot be translated or validated become exceptions with the source
record as the replay payload.

Nothing here is DBOS-specific: `workflows.py` runs it as a durable step and records the inbox
decisions only after the commands are safely enqueued.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from pssync.engine.echo import Ledger, Written, is_echo
from pssync.engine.ids import event_key, event_version, new_canonical_id
from pssync.engine.inbox import Decision, Event, Inbox, Status, is_older
from pssync.engine.routes import AppliedChange, route_change
from pssync.engine.runtime import Runtime
from pssync.governance.exceptions import ACTIVE, NewException
from pssync.governance.gate import write_governed
from pssync.mapping.translator import TranslationError
from pssync.model import CanonicalRecord, CanonicalValidationError, parse_record
from pssync.store import Change, RecordVersion
from pssync.store.history import utcnow
from pssync.store.lookup import known_versions, resolve_xrefs, version_at
from pssync.store.tables import exception_record, xref


class RejectedError(ValueError):
    """A governance hook refusing a record; becomes an exception of `category`."""

    def __init__(self, category: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.category, self.field = category, field


# Hooks run after validation and before the golden write (duplicate match, business checks...).
GovernHook = Callable[[Runtime, str, CanonicalRecord], None]
GOVERN_HOOKS: list[GovernHook] = []
# Content enrichers run on the translated fields before they are merged over the golden record
# (system, object, fields) -> fields; e.g. resolving a source system's reference IDs to
# canonical IDs through the xref map.
EnrichHook = Callable[[Runtime, str, str, dict[str, Any]], dict[str, Any]]
ENRICH_HOOKS: list[EnrichHook] = []
# Identity resolution for a source record the xref map does not know yet:
# (runtime, system, entity type, translated fields) -> the ID of the golden record it is the
# same real-world thing as (an ERP customer that is the CRM account already held), else None
# and a new canonical ID is minted. The first hook that answers wins.
IdentityHook = Callable[[Runtime, str, str, dict[str, Any]], str | None]
IDENTITY_HOOKS: list[IdentityHook] = []
# Run once a page is written, still inside it (`page_memo` answers): for hooks that collect
# per-record findings in the page memo and write them with one transaction per page.
PageEndHook = Callable[[Runtime], None]
PAGE_END_HOOKS: list[PageEndHook] = []


@dataclass(frozen=True)
class Nesting:
    """A source object that is part of another canonical record rather than one of its own.

    Salesforce keeps an opportunity's line items as separate records (`OpportunityLineItem`)
    while the canonical `Opportunity` holds them in `line_items`: the estimate is one fact about
    the deal, and the flows and the forecast read it with the deal. `key` is the translated
    helper field naming the parent (a vendor ID, or a canonical one once resolved); it is
    removed from the nested line.
    """

    parent: str
    key: str
    field: str


NESTED: dict[str, Nesting] = {
    "OpportunityLineItem": Nesting("Opportunity", "opportunity_id", "line_items"),
}
# A nested line whose parent the golden store does not hold (the deal is blocked by its own
# exception, or not read yet) waits in one exception per parent and is nested when it arrives.
ORPHAN_CATEGORY = "orphan_line_item"
# A crosswalk miss is an `unmapped_value` unless the crosswalk names a sharper category (a tax
# code missing from the `tax_code` crosswalk is an `invalid_tax_code` for the tax team).
CROSSWALK_CATEGORIES: dict[str, str] = {}


# The page being applied on this thread, for hooks that read the golden store per record.
_page: ContextVar[PagePipeline | None] = ContextVar("pssync_page", default=None)


def golden_record(runtime: Runtime, entity_type: str, record_id: str) -> RecordVersion | None:
    """`runtime.store.get(entity_type, record_id)`, read once per page while a page is applied.

    Hooks run once per record; the golden store changes only when the page is written at its
    end (deletions aside, which are read again), so within a page one read per record serves
    every hook that asks, and the page's own records were read in one query up front.
    """
    page = _page.get()
    if page is None or page.store is not runtime.store:
        return runtime.store.get(entity_type, record_id)
    return page._get(entity_type, record_id)


def page_memo(runtime: Runtime) -> dict[Any, Any] | None:
    """A dict living as long as the page being applied (None outside one): for hooks to keep
    answers that cannot change before the page is written, misses included (e.g. an xref
    lookup that found nothing)."""
    page = _page.get()
    return page.memo if page is not None and page.store is runtime.store else None


def page_fields(runtime: Runtime) -> tuple[str, str, list[dict[str, Any]]] | None:
    """(system, object, translated fields of each record that translates) of the page being
    applied, None outside one: lets a per-record enricher read what the whole page needs in one
    query on its first call. The translations are the ones the records are applied with."""
    page = _page.get()
    if page is None or page.store is not runtime.store:
        return None
    found = [page._translate(page.obj, r) for r in page.records if not r.get("deleted")]
    return page.system, page.obj, [f for f in found if not isinstance(f, TranslationError)]


def source_record(
    record_id: str,
    data: dict[str, Any],
    modified_at: str | None = None,
    deleted: bool = False,
    tag: str | None = None,
) -> dict[str, Any]:
    """The serialisable form of a `SourceRecord` that workflows carry. `tag` makes a
    deliberate re-application (a reconciliation repair) a new event rather than a duplicate."""
    record = {"id": record_id, "data": data, "modified_at": modified_at, "deleted": deleted}
    if tag:
        record["tag"] = tag
    return record


def event_of(system: str, obj: str, record: dict[str, Any]) -> Event:
    version = event_version(record.get("modified_at") or "", record["data"])
    if record.get("deleted"):
        version += "#deleted"
    if record.get("tag"):
        version += f"#{record['tag']}"
    source_id = str(record["id"])
    return Event(system, obj, source_id, version, event_key(system, obj, source_id, version))


@dataclass
class PageResult:
    """What one page did: per-record decisions and the commands its routes produced."""

    decisions: list[Decision] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for d in self.decisions:
            found[d.status.value] = found.get(d.status.value, 0) + 1
        return found


class PagePipeline:
    """Applies one page of one system's object; see the module docstring for the stages."""

    def __init__(self, runtime: Runtime, system: str, obj: str) -> None:
        self.rt, self.system, self.obj = runtime, system, obj
        self.store = runtime.store
        self.translator = runtime.translator(system)
        self.entity_type = self.translator.object_map(obj).entity
        self.result = PageResult()
        self.changes: list[Change] = []
        self.payloads: list[dict[str, Any]] = []  # each change's record, dumped once
        self.merged: dict[str, dict[str, Any]] = {}
        self.nesting = NESTED.get(self.entity_type)
        # For nested lines: line record ID -> parent record ID, and the parent's last valid_from
        # in this page (each line is one more version of its parent; versions must not go back).
        self.parent_of: dict[str, str] = {}
        self.parent_from: dict[str, dt.datetime] = {}
        # For parents: orphan lines waiting for them, by the parent's source ID.
        self.held: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}
        # Page-wide reads, one query each instead of one per record: the xref map of the
        # page's source IDs (per object) and the golden records as they were before the page.
        # A record this page deletes is read again (the delete is written at once).
        self.xrefs: dict[str, dict[str, tuple[str, str] | None]] = {}
        self.golden: dict[tuple[str, str], RecordVersion | None] = {}
        self.versions: dict[tuple[str, str], list[RecordVersion]] = {}
        self.deleted: set[str] = set()
        self.parents: dict[str, str | None] = {}
        self.memo: dict[Any, Any] = {}
        self.rids: dict[tuple[str, str], str] = {}
        self.records: list[dict[str, Any]] = []
        self.translated: dict[tuple[str, int], dict[str, Any] | TranslationError] = {}

    def run(
        self,
        records: list[dict[str, Any]],
        correlation_id: str | None = None,
        events: list[Event] | None = None,
    ) -> PageResult:
        """Apply `records`; `events` are their `event_of`s when the caller has them already
        (the poller digests each record once, for the page's workflow ID)."""
        if events is None or len(events) != len(records):
            events = [event_of(self.system, self.obj, r) for r in records]
        with self._current():
            return self._run(records, events, correlation_id)

    @contextmanager
    def _current(self) -> Iterator[None]:
        token = _page.set(self)
        try:
            yield
        finally:
            _page.reset(token)

    def _run(
        self, records: list[dict[str, Any]], events: list[Event], correlation_id: str | None
    ) -> PageResult:
        self.records = records
        seen = Inbox(self.store.engine).seen(e.key for e in events)
        last = Inbox(self.store.engine).last_versions(events)
        echoes = Ledger(self.store.engine).by_target_id(
            self.system, self.obj, [e.source_id for e in events]
        )
        applied: list[Decision] = []
        self.held = self._held_lines([e.source_id for e in events])
        self._prefetch(events)
        nested_done: list[str] = []
        for record, event in zip(records, events, strict=True):
            source = (event.system, event.object, event.source_id)
            if event.key in seen:
                self._decide(event, Status.DUPLICATE)
            elif source in last and is_older(event.version, last[source]):
                self._decide(event, Status.STALE)
            elif not record.get("deleted") and self._echo(echoes.get(event.source_id), record):
                last[source] = event.version
                self._decide(event, Status.ECHO)
            else:
                seen.add(event.key)
                last[source] = event.version
                if self.nesting is not None:
                    decision = self._apply_nested(record, event)
                else:
                    decision = self._apply(record, event)
                if decision.status is Status.APPLIED:
                    applied.append(decision)
                    if event.source_id in self.held:
                        nested_done.append(self.held[event.source_id][0])
        refused: set[tuple[str, str]] = set()
        if self.changes:
            governed = write_governed(
                self.store,
                self.rt.policy,
                self.changes,
                self.rt.roles,
                correlation_id=correlation_id,
                payloads=self.payloads,
                # The versions read up front still hold unless the page deleted the record.
                prefetched={k: v for k, v in self.versions.items() if k[1] not in self.deleted},
            )
            refused = {(entity_type, rid) for entity_type, rid, _ in governed.refused}
        for hook in PAGE_END_HOOKS:
            hook(self.rt)
        for exc_id in nested_done:
            self.rt.exceptions.resolve(exc_id, "auto-resolved: nested into its parent", "engine")
        self._route(applied, refused)
        return self.result

    def _prefetch(self, events: list[Event]) -> None:
        """Read what the page's records need from the store in a few queries: their xref
        entries and the golden versions behind them (for nested lines, the lines' own xrefs;
        their parents are looked up once per parent)."""
        source_ids = [e.source_id for e in events]
        found_ids = resolve_xrefs(self.store.engine, self.system, self.obj, source_ids)
        self.xrefs[self.obj] = {i: found_ids.get(i) for i in source_ids}
        if self.nesting is not None:
            return
        keys = [(self.entity_type, self._canonical_id(self.obj, i)) for i in source_ids]
        versions = known_versions(self.store.engine, keys)
        self.versions = {key: versions.get(key, []) for key in keys}
        self.golden = {key: version_at(self.versions[key]) for key in keys}

    def _canonical_id(self, obj: str, source_id: str) -> str:
        """`ids.canonical_id` from the page's xref read (one query per object and page),
        worked out once per source record and page (the xref map changes when the page is
        written, at its end)."""
        found = self.rids.get((obj, source_id))
        if found is not None:
            return found
        entity_type = self.translator.object_map(obj).entity
        cache = self.xrefs.setdefault(obj, {})
        if source_id not in cache:
            cache[source_id] = self.store.resolve_xref(self.system, obj, source_id)
        known = cache[source_id]
        if known is not None and known[0] == entity_type:
            found = known[1]
        else:
            found = new_canonical_id(entity_type, self.system, obj, source_id)
        self.rids[(obj, source_id)] = found
        return found

    def _translate(self, obj: str, record: dict[str, Any]) -> dict[str, Any] | TranslationError:
        """`to_canonical` of one of the page's records, once per page (an enricher may have
        translated the page already); a failure is kept to be raised where it is handled."""
        key = (obj, id(record))
        if key not in self.translated:
            try:
                self.translated[key] = self.translator.to_canonical(obj, record["data"])
            except TranslationError as exc:
                self.translated[key] = exc
        return self.translated[key]

    def _fields(self, obj: str, record: dict[str, Any]) -> dict[str, Any]:
        found = self._translate(obj, record)
        if isinstance(found, TranslationError):
            raise found
        return dict(found)

    def _get(self, entity_type: str, rid: str) -> RecordVersion | None:
        """`store.get(entity_type, rid)` as of the page's start, read once per record."""
        key = (entity_type, rid)
        if key not in self.golden or rid in self.deleted:
            self.golden[key] = self.store.get(entity_type, rid)
        return self.golden[key]

    def _echo(self, written: Written | None, record: dict[str, Any]) -> bool:
        """pssync's own write coming back. A partial write (a write-back of a few fields) cannot
        vouch for the rest of the record: any mapped, writable field that holds a value and was
        not among the fields written makes the record news, not an echo."""
        if written is None or not is_echo(written, record["data"]):
            return False
        rules = self.translator.object_map(self.obj).fields.values()
        sources = {r.from_ for r in rules if r.write and r.from_} | {
            r.money.amount for r in rules if r.write and r.money is not None
        }
        data = record["data"]
        return all(
            name in written.payload or data.get(name) in (None, "")
            for name in sources
            if name in data
        )

    def _decide(self, event: Event, status: Status, record_id: str | None = None) -> Decision:
        decision = Decision(event, status, self.entity_type, record_id)
        self.result.decisions.append(decision)
        return decision

    def _apply(self, record: dict[str, Any], event: Event) -> Decision:
        rid = self._canonical_id(self.obj, event.source_id)
        golden = self._get(self.entity_type, rid)
        stamp = _moment(record.get("modified_at"))
        if record.get("deleted"):
            if golden is not None:
                valid_from = max(stamp, golden.valid_from)
                self.store.delete(self.entity_type, rid, valid_from, system=self.system)
                self.deleted.add(rid)
            return self._decide(event, Status.APPLIED, rid)
        try:
            fields = self._fields(self.obj, record)
            for enrich in ENRICH_HOOKS:
                fields = enrich(self.rt, self.system, self.obj, fields)
            if golden is None and rid not in self.merged:
                rid, golden = self._identify(rid, fields)
            current = self.merged.get(rid)
            if current is None and golden is not None:
                current = golden.payload
            valid_from = max(stamp, golden.valid_from) if golden is not None else stamp
            base = dict(current or {})
            xrefs = {**base.get("xrefs", {}), f"{self.system}:{self.obj}": event.source_id}
            merged = {**base, **fields, "id": rid, "xrefs": xrefs}
            if event.source_id in self.held:
                merged = self._nest_held(merged, self.held[event.source_id])
            canonical = parse_record(self.entity_type, merged)
            for hook in GOVERN_HOOKS:
                hook(self.rt, self.system, canonical)
        except TranslationError as exc:
            first = exc.problems[0] if exc.problems else None
            category = "invalid_record"
            extra: dict[str, Any] = {}
            if first is not None and first.crosswalk:
                category = CROSSWALK_CATEGORIES.get(first.crosswalk, "unmapped_value")
                extra = {"value": first.value, "crosswalk": first.crosswalk}
            return self._reject(
                record,
                event,
                rid,
                category,
                str(exc),
                first.field if first else None,
                extra,
            )
        except CanonicalValidationError as exc:
            return self._reject(record, event, rid, "invalid_record", str(exc), None)
        except RejectedError as exc:
            return self._reject(record, event, rid, exc.category, str(exc), exc.field)
        self.merged[rid] = canonical.model_dump(mode="json")
        self.payloads.append(self.merged[rid])
        self.changes.append(
            Change(
                canonical, valid_from, self.system, f"{self.system}:{self.obj}:{event.source_id}"
            )
        )
        return self._decide(event, Status.APPLIED, rid)

    def _identify(self, rid: str, fields: dict[str, Any]) -> tuple[str, RecordVersion | None]:
        """A record new to the xref map may be one the store already holds under another
        system's ID; the identity hooks say which (else `rid`, a new record, stands)."""
        for hook in IDENTITY_HOOKS:
            found = hook(self.rt, self.system, self.entity_type, fields)
            if found is not None and found != rid:
                golden = self.store.get(self.entity_type, found)
                if golden is not None:
                    return found, golden
        return rid, None

    def _line(self, obj: str, record: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
        """(parent reference, canonical line, line ID) of one nested source record."""
        entity = self.translator.object_map(obj).entity
        nesting = NESTED[entity]
        fields = self._fields(obj, record)
        for enrich in ENRICH_HOOKS:
            fields = enrich(self.rt, self.system, obj, fields)
        parent_ref = str(fields.pop(nesting.key, "") or "")
        line_id = self._canonical_id(obj, str(record["id"]))
        return parent_ref, {**fields, "id": line_id}, line_id

    def _parent_id(self, ref: str) -> str | None:
        """The canonical ID of the parent a line names (vendor ID via the xref map, or already
        canonical when an enricher resolved it); None when the golden store lacks the parent."""
        assert self.nesting is not None
        if ref not in self.parents:  # the lines of one parent name it again and again
            self.parents[ref] = self._find_parent(ref)
        return self.parents[ref]

    def _find_parent(self, ref: str) -> str | None:
        assert self.nesting is not None
        if self._get(self.nesting.parent, ref) is not None:
            return ref
        x = xref.c
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(x.record_id).where(
                    x.system == self.system,
                    x.external_id == ref,
                    x.entity_type == self.nesting.parent,
                )
            ).first()
        if row is None:
            return None
        found = str(row.record_id)
        return found if self._get(self.nesting.parent, found) is not None else None

    def _apply_nested(self, record: dict[str, Any], event: Event) -> Decision:
        """One line into its parent: a new version of the parent with the line replaced (or
        removed, for a deletion), so a line change is a change of the deal."""
        assert self.nesting is not None
        nesting = self.nesting
        line_rid = self._canonical_id(self.obj, event.source_id)
        try:
            if record.get("deleted"):  # a deletion carries no parent reference
                parent_ref, line = "", dict[str, Any]()
                parent_rid = self._parent_of_line(line_rid)
            else:
                parent_ref, line, line_rid = self._line(self.obj, record)
                parent_rid = self._parent_id(parent_ref) if parent_ref else None
            if parent_rid is None:
                if record.get("deleted"):  # a line of a deal we never held: nothing to remove
                    return self._decide(event, Status.APPLIED, line_rid)
                return self._hold(record, event, line_rid, parent_ref)
            current = self.merged.get(parent_rid)
            golden = self._get(nesting.parent, parent_rid)
            if current is None:
                assert golden is not None
                current = golden.payload
            lines = [x for x in current.get(nesting.field) or [] if x.get("id") != line_rid]
            if line:
                lines.append(line)
            lines.sort(key=lambda x: str(x.get("id")))
            canonical = parse_record(nesting.parent, {**current, nesting.field: lines})
            for hook in GOVERN_HOOKS:
                hook(self.rt, self.system, canonical)
        except TranslationError as exc:
            first = exc.problems[0] if exc.problems else None
            category, extra = "invalid_record", {}
            if first is not None and first.crosswalk:
                category = CROSSWALK_CATEGORIES.get(first.crosswalk, "unmapped_value")
                extra = {"value": first.value, "crosswalk": first.crosswalk}
            field_name = first.field if first else None
            return self._reject(record, event, line_rid, category, str(exc), field_name, extra)
        except CanonicalValidationError as exc:
            return self._reject(record, event, line_rid, "invalid_record", str(exc), None)
        except RejectedError as exc:
            return self._reject(record, event, line_rid, exc.category, str(exc), exc.field)
        stamp = _moment(record.get("modified_at"))
        floor = self.parent_from.get(parent_rid) or (golden.valid_from if golden else stamp)
        valid_from = max(stamp, floor)
        self.parent_from[parent_rid] = valid_from
        self.parent_of[line_rid] = parent_rid
        self.merged[parent_rid] = canonical.model_dump(mode="json")
        self.payloads.append(self.merged[parent_rid])
        self.changes.append(
            Change(
                canonical, valid_from, self.system, f"{self.system}:{self.obj}:{event.source_id}"
            )
        )
        return self._decide(event, Status.APPLIED, line_rid)

    def _parent_of_line(self, line_rid: str) -> str | None:
        """The parent holding `line_rid` (for deletions, which carry no parent reference)."""
        assert self.nesting is not None
        for version in self.store.iter_records(self.nesting.parent):
            if any(x.get("id") == line_rid for x in version.payload.get(self.nesting.field) or []):
                return str(version.payload["id"])
        return None

    def _hold(
        self, record: dict[str, Any], event: Event, line_rid: str, parent_ref: str
    ) -> Decision:
        """Park a line whose parent is unknown in one exception per parent (so a deal blocked by
        its own exception does not add one more per line); the parent's arrival nests them."""
        assert self.nesting is not None
        new = NewException(
            category=ORPHAN_CATEGORY,
            message=(
                f"{self.entity_type} lines wait for {self.nesting.parent} {parent_ref or '?'}, "
                "which the golden store does not hold yet (see that record's own exception); "
                "they are nested when it is applied"
            ),
            system=self.system,
            object=self.obj,
            source_id=parent_ref,
            entity_type=self.nesting.parent,
            details={"field": self.nesting.key, "stage": "ingest", "parent": parent_ref},
        )
        xr = exception_record.c
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(xr.payload).where(
                    xr.fingerprint == new.fingerprint(),
                    xr.state.in_([s.value for s in ACTIVE]),
                )
            ).first()
        held: list[dict[str, Any]] = []
        if row is not None and row.payload:
            held = [
                r for r in json.loads(row.payload).get("records", []) if r["id"] != record["id"]
            ]
        held.append(record)
        new.details["lines"] = len(held)
        new.payload = json.dumps(
            {"system": self.system, "object": self.obj, "records": held}, default=str
        )
        new.correlation_id = event.key
        self.rt.exceptions.raise_(new, actor="engine")
        return self._decide(event, Status.REJECTED, line_rid)

    def _held_lines(
        self, source_ids: list[str]
    ) -> dict[str, tuple[str, str, list[dict[str, Any]]]]:
        """Orphan lines waiting for the parents in this page: source ID -> (exception ID,
        line object, source records)."""
        if not source_ids or not any(n.parent == self.entity_type for n in NESTED.values()):
            return {}
        xr = exception_record.c
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(xr.id, xr.source_id, xr.payload).where(
                    xr.category == ORPHAN_CATEGORY,
                    xr.system == self.system,
                    xr.entity_type == self.entity_type,
                    xr.state.in_([s.value for s in ACTIVE]),
                    xr.source_id.in_(source_ids),
                )
            ).all()
        out = {}
        for row in rows:
            data = json.loads(row.payload or "{}")
            out[str(row.source_id)] = (str(row.id), str(data["object"]), list(data["records"]))
        return out

    def _nest_held(
        self, parent: dict[str, Any], held: tuple[str, str, list[dict[str, Any]]]
    ) -> dict[str, Any]:
        """`parent` with the lines that waited for it (a line that fails now stays out and is
        raised on its own when it is read again)."""
        _, obj, records = held
        nesting = NESTED[self.translator.object_map(obj).entity]
        lines = {str(x.get("id")): x for x in parent.get(nesting.field) or []}
        for record in records:
            if record.get("deleted"):
                continue
            try:
                _, line, line_rid = self._line(obj, record)
            except TranslationError:
                continue
            lines[line_rid] = line
        return {**parent, nesting.field: [lines[k] for k in sorted(lines)]}

    def _reject(
        self,
        record: dict[str, Any],
        event: Event,
        rid: str,
        category: str,
        message: str,
        field: str | None,
        extra: dict[str, Any] | None = None,
    ) -> Decision:
        self.rt.exceptions.raise_(
            NewException(
                category=category,
                message=message,
                system=self.system,
                object=self.obj,
                source_id=event.source_id,
                entity_type=self.entity_type,
                record_id=rid,
                details={
                    "field": field,
                    "event_key": event.key,
                    "stage": "ingest",
                    **(extra or {}),
                },
                payload=json.dumps(
                    {"system": self.system, "object": self.obj, "record": record}, default=str
                ),
                correlation_id=event.key,
            ),
            actor="engine",
        )
        return self._decide(event, Status.REJECTED, rid)

    def _route(self, applied: list[Decision], refused: set[tuple[str, str]]) -> None:
        """Route every applied change, changed or not: a crash after the golden write but before
        the commands were enqueued must not lose them, and delivery drops no-op writes anyway.

        The payload is the one this page just wrote (the store holds exactly that, or the same
        content from before when the write was a no-op); a record whose write the gate changed
        (refused fields) or that the page deleted is read back from the store."""
        if not self.rt.routes:
            return
        done: set[str] = set()
        entity_type = self.nesting.parent if self.nesting else self.entity_type
        for decision in reversed(applied):  # newest per record only
            rid = decision.record_id
            if self.nesting is not None and rid is not None:
                rid = self.parent_of.get(rid)  # a line changes its parent
            if rid is None or rid in done:
                continue
            done.add(rid)
            payload = self.merged.get(rid)
            if payload is None or rid in self.deleted or (entity_type, rid) in refused:
                golden = self.store.get(entity_type, rid)
                if golden is None:
                    continue
                payload = golden.payload
            change = AppliedChange(
                self.system,
                self.obj,
                decision.event.source_id,
                entity_type,
                rid,
                payload,
                decision.event.key,
            )
            self.result.commands += [c.as_dict() for c in route_change(self.rt, change)]


def _moment(text: str | None) -> dt.datetime:
    if not text:
        return utcnow()
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
