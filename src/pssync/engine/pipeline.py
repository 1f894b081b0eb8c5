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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pssync.engine.echo import Ledger, Written, is_echo
from pssync.engine.ids import canonical_id, event_key, event_version
from pssync.engine.inbox import Decision, Event, Inbox, Status, is_older
from pssync.engine.routes import AppliedChange, route_change
from pssync.engine.runtime import Runtime
from pssync.governance.exceptions import NewException
from pssync.governance.gate import write_governed
from pssync.mapping.translator import TranslationError
from pssync.model import CanonicalRecord, CanonicalValidationError, parse_record
from pssync.store import Change
from pssync.store.history import utcnow


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
# A crosswalk miss is an `unmapped_value` unless the crosswalk names a sharper category (a tax
# code missing from the `tax_code` crosswalk is an `invalid_tax_code` for the tax team).
CROSSWALK_CATEGORIES: dict[str, str] = {}


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
        self.merged: dict[str, dict[str, Any]] = {}

    def run(self, records: list[dict[str, Any]], correlation_id: str | None = None) -> PageResult:
        events = [event_of(self.system, self.obj, r) for r in records]
        seen = Inbox(self.store.engine).seen(e.key for e in events)
        last = Inbox(self.store.engine).last_versions(events)
        echoes = Ledger(self.store.engine).by_target_id(
            self.system, self.obj, [e.source_id for e in events]
        )
        applied: list[Decision] = []
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
                decision = self._apply(record, event)
                if decision.status is Status.APPLIED:
                    applied.append(decision)
        if self.changes:
            write_governed(
                self.store,
                self.rt.policy,
                self.changes,
                self.rt.roles,
                correlation_id=correlation_id,
            )
        self._route(applied)
        return self.result

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
        rid = canonical_id(self.store, self.entity_type, self.system, self.obj, event.source_id)
        current = self.merged.get(rid)
        golden = self.store.get(self.entity_type, rid)
        if current is None and golden is not None:
            current = golden.payload
        stamp = _moment(record.get("modified_at"))
        valid_from = max(stamp, golden.valid_from) if golden is not None else stamp
        if record.get("deleted"):
            if golden is not None:
                self.store.delete(self.entity_type, rid, valid_from, system=self.system)
            return self._decide(event, Status.APPLIED, rid)
        try:
            fields = self.translator.to_canonical(self.obj, record["data"])
            for enrich in ENRICH_HOOKS:
                fields = enrich(self.rt, self.system, self.obj, fields)
            base = dict(current or {})
            xrefs = {**base.get("xrefs", {}), f"{self.system}:{self.obj}": event.source_id}
            canonical = parse_record(
                self.entity_type, {**base, **fields, "id": rid, "xrefs": xrefs}
            )
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
        self.changes.append(
            Change(
                canonical, valid_from, self.system, f"{self.system}:{self.obj}:{event.source_id}"
            )
        )
        return self._decide(event, Status.APPLIED, rid)

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

    def _route(self, applied: list[Decision]) -> None:
        """Route every applied change, changed or not: a crash after the golden write but before
        the commands were enqueued must not lose them, and delivery drops no-op writes anyway."""
        done: set[str] = set()
        for decision in reversed(applied):  # newest per record only
            rid = decision.record_id
            if rid is None or rid in done:
                continue
            done.add(rid)
            golden = self.store.get(self.entity_type, rid)
            if golden is None:
                continue
            change = AppliedChange(
                self.system,
                self.obj,
                decision.event.source_id,
                self.entity_type,
                rid,
                golden.payload,
                decision.event.key,
            )
            self.result.commands += [c.as_dict() for c in route_change(self.rt, change)]


def _moment(text: str | None) -> dt.datetime:
    if not text:
        return utcnow()
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
