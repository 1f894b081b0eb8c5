"""The page pipeline: inbox -> translate -> govern -> store -> route, for one page.

One call handles a page of source records from one system and object, in source order. Each
record is keyed (inbox), dropped when it is a duplicate, an older version than one already
applied, or pssync's own write coming back (echo); otherwise translated to its canonical
entity, enriched and merged over the golden record (a system's view is partial: fields it does
not map keep their golden values), validated and passed through the govern stage's checks, and
written by the store stage (the system-of-record matrix) with provenance and audit. Routes turn
every applied change into outbound commands. Records that cannot be translated, validated or
governed become exceptions with the source record as the replay payload.

The govern and store stages are handed in through `runtime.stages` (`stages.py`); nothing here
is DBOS-specific: `workflows.py` runs a page as a durable step and records the inbox decisions
only after the commands are safely enqueued. `revise` runs golden records that need a new
version (a reference that became resolvable) through the same govern, store and route stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pssync.engine.echo import Ledger, Written, is_echo
from pssync.engine.inbox import Decision, Event, Inbox, Status, is_older
from pssync.engine.nesting import NESTED, NestedLines
from pssync.engine.outbound import AppliedChange, route_change, routing_pass
from pssync.engine.page_result import PageResult
from pssync.engine.page_state import Refusals, moment
from pssync.engine.records import event_of, source_record
from pssync.engine.runtime import Runtime
from pssync.model import parse_record
from pssync.store import RecordVersion
from pssync.store.history import utcnow

__all__ = ["NESTED", "PagePipeline", "PageResult", "Revision", "event_of", "source_record"]


@dataclass(frozen=True)
class Revision:
    """A golden record to run through the govern, store and route stages again, as a change
    from `source_id` in the pipeline's system and object (its enrichers may now find what they
    could not before)."""

    record: RecordVersion
    source_id: str


class PagePipeline(NestedLines):
    """Applies one page of one system's object; see the module docstring for the stages."""

    def __init__(self, runtime: Runtime, system: str, obj: str) -> None:
        super().__init__(runtime, system, obj)

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
        self.records = records
        applied, nested_done = self._inbox(records, events)
        self.raise_refused()
        refused = self._store(correlation_id)
        Ledger(self.store.engine).link(self.links)
        for exc_id in dict.fromkeys(nested_done):  # a deal's history states nest it once
            self.exceptions.resolve(exc_id, "auto-resolved: nested into its parent", "engine")
        self._route(applied, refused)
        return self.result

    def _inbox(
        self, records: list[dict[str, Any]], events: list[Event]
    ) -> tuple[list[Decision], list[str]]:
        """Decide each record (duplicate, stale, echo, or applied through translate and govern);
        the applied decisions and the orphan exceptions their records nest."""
        seen = Inbox(self.store.engine).seen(e.key for e in events)
        last = Inbox(self.store.engine).last_versions(events)
        echoes = Ledger(self.store.engine).by_target_id(
            self.system, self.obj, [e.source_id for e in events]
        )
        ours = self._ours(records, events, echoes)
        applied: list[Decision] = []
        self.held = self._held_lines([e.source_id for e in events])
        self._prefetch(events, versions=self.nesting is None, known=ours)
        echoes = {**ours, **echoes}
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
                if event.source_id in ours:  # read back before its delivery recorded it
                    self.links.append(ours[event.source_id])
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
        return applied, nested_done

    def _ours(
        self, records: list[dict[str, Any]], events: list[Event], echoes: dict[str, Written]
    ) -> dict[str, Written]:
        """Records of the page carrying an external ID pssync wrote (or is writing) into this
        object, by source ID, with what was written: pssync's own creates, even when they are
        read back before their delivery returned and recorded their target IDs."""
        spec = self.own_translator.object_map(self.obj)
        field = spec.external_id_field
        if self.nesting is not None or not field:
            return {}
        by_external: dict[str, str] = {}
        for record, event in zip(records, events, strict=True):
            value = record["data"].get(field)
            if value not in (None, "") and event.source_id not in echoes:
                by_external[str(value)] = event.source_id
        if not by_external:
            return {}
        found = Ledger(self.store.engine).by_external_id(self.system, self.obj, by_external)
        out = {}
        for external, written in found.items():
            source_id = by_external[external]
            if written.entity_type == self.entity_type and written.target_id in (None, source_id):
                out[source_id] = Written(
                    written.system,
                    written.object,
                    written.external_id,
                    source_id,
                    written.entity_type,
                    written.record_id,
                    written.content_hash,
                    written.payload,
                )
        return out

    def _store(self, correlation_id: str | None) -> set[tuple[str, str]]:
        """The store stage over the page's changes, then the page-end stages; the records
        whose write the store stage changed (refused fields)."""
        refused: set[tuple[str, str]] = set()
        self.backdated_changes()
        if self.changes:
            # The versions read up front still hold unless the page deleted the record.
            prefetched = {k: v for k, v in self.versions.items() if k[1] not in self.deleted}
            written = self.stages.write(
                self, self.changes, self.payloads, prefetched, correlation_id
            )
            refused = written.refused
        for end in self.stages.page_end:
            end(self)
        return refused

    def _echo(self, written: Written | None, record: dict[str, Any]) -> bool:
        """pssync's own write coming back. A partial write (a write-back of a few fields) cannot
        vouch for the rest of the record: any mapped, writable field that holds a value and was
        not among the fields written makes the record news, not an echo."""
        if written is None or not is_echo(written, record["data"]):
            return False
        rules = self.own_translator.object_map(self.obj).fields.values()
        sources = {r.from_ for r in rules if r.write and r.from_} | {
            r.money.amount for r in rules if r.write and r.money is not None
        }
        data = record["data"]
        return all(
            name in written.payload or data.get(name) in (None, "")
            for name in sources
            if name in data
        )

    def _apply(self, record: dict[str, Any], event: Event) -> Decision:
        rid = self._canonical_id(self.obj, event.source_id)
        golden = self.golden(self.entity_type, rid)
        stamp = moment(record.get("modified_at"))
        if record.get("deleted"):
            if golden is not None:
                valid_from = max(stamp, golden.valid_from)
                self.store.delete(self.entity_type, rid, valid_from, system=self.system)
                self.deleted.add(rid)
            return self._decide(event, Status.APPLIED, rid)
        try:
            fields = self._fields(self.obj, record)
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
            self._govern(canonical)
        except Refusals as exc:
            return self._refused(record, event, rid, exc)
        self._keep(canonical, rid, valid_from, event)
        return self._decide(event, Status.APPLIED, rid)

    def _identify(self, rid: str, fields: dict[str, Any]) -> tuple[str, RecordVersion | None]:
        """A record new to the xref map may be one the store already holds under another
        system's ID; the identify stages say which (else `rid`, a new record, stands)."""
        for identify in self.stages.identify:
            found = identify(self, self.entity_type, fields)
            if found is not None and found != rid:
                golden = self.store.get(self.entity_type, found)
                if golden is not None:
                    return found, golden
        return rid, None

    def _route(self, applied: list[Decision], refused: set[tuple[str, str]]) -> None:
        """Route every applied change, changed or not: a crash after the golden write but before
        the commands were enqueued must not lose them, and delivery drops no-op writes anyway.

        The payload is the one this page just wrote (the store holds exactly that, or the same
        content from before when the write was a no-op); a record whose write the store stage
        changed (refused fields) or that the page deleted is read back from the store."""
        if not self.rt.routes:
            return
        with routing_pass():
            self._route_each(applied, refused)

    def _route_each(self, applied: list[Decision], refused: set[tuple[str, str]]) -> None:
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
            self._send(entity_type, rid, decision.event.source_id, payload, decision.event.key)

    def _send(
        self, entity_type: str, rid: str, source_id: str, payload: dict[str, Any], key: str
    ) -> None:
        change = AppliedChange(self.system, self.obj, source_id, entity_type, rid, payload, key)
        self.result.commands += [c.as_dict() for c in route_change(self.rt, change)]

    def revise(self, revisions: list[Revision], correlation_id: str) -> list[str]:
        """Run golden records through enrich -> govern -> store -> route again; the IDs of the
        records that got a new version (a record the enrichers leave as it was is skipped, one
        a check refuses keeps its own exception and is tried again next time)."""
        kept: list[tuple[str, str, str]] = []
        for revision in revisions:
            golden = revision.record
            entity_type = golden.entity_type
            try:
                fields = dict(golden.payload)
                for enrich in self.stages.enrich:
                    fields = enrich(self, self.obj, fields)
                if fields == golden.payload:
                    continue
                record = parse_record(entity_type, fields)
                self._govern(record)
            except Refusals:
                continue
            event = Event(self.system, self.obj, revision.source_id, "", correlation_id)
            valid_from = max(utcnow(), golden.valid_from)
            self._keep(record, golden.record_id, valid_from, event)
            kept.append((entity_type, golden.record_id, revision.source_id))
        refused = self._store(correlation_id)
        for entity_type, rid, source_id in kept:
            written = self.store.get(entity_type, rid)
            if written is None:
                continue
            payload = written.payload if (entity_type, rid) in refused else self.merged[rid]
            key = f"{correlation_id}:{entity_type}:{rid}:{written.valid_from.isoformat()}"
            self._send(entity_type, rid, source_id, payload, key)
        return [rid for _, rid, _ in kept]
