"""The state of one page being applied, and the reads its stages share (a `PageContext`).

Page-wide reads take one query each instead of one per record: the xref map of the page's
source IDs and the golden records as they were before the page. The golden store changes only
when the page is written at its end (deletions aside, which are written at once and read
again), so within a page one read per record serves every stage that asks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from pssync.engine.ids import new_canonical_id
from pssync.engine.inbox import Decision, Event, Status
from pssync.engine.page_result import PageResult
from pssync.engine.ports import ExceptionSink
from pssync.engine.runtime import Runtime
from pssync.engine.stages import RejectedError
from pssync.mapping.translator import TranslationError, Translator
from pssync.model import CanonicalValidationError
from pssync.store import Change, GoldenStore, RecordVersion
from pssync.store.history import utcnow
from pssync.store.lookup import known_versions, resolve_xrefs, version_at
from pssync.store.problems import NewException

# What the govern stage may raise about a record: each becomes an exception for the record.
Refusals = (TranslationError, CanonicalValidationError, RejectedError)


class PageState:
    """One page of one system's object: its records, reads and results; a `PageContext`."""

    def __init__(self, runtime: Runtime, system: str, obj: str) -> None:
        self.rt, self.system, self.obj = runtime, system, obj
        self.store: GoldenStore = runtime.store
        self.exceptions: ExceptionSink = runtime.exceptions
        self.roles: Mapping[str, str | None] = runtime.roles
        self.translators: Mapping[str, Translator] = runtime.translators
        self.stages = runtime.stages
        self.own_translator = runtime.translator(system)
        self.entity_type = self.own_translator.object_map(obj).entity
        self.result = PageResult()
        self.changes: list[Change] = []
        self.payloads: list[dict[str, Any]] = []  # each change's record, dumped once
        self.merged: dict[str, dict[str, Any]] = {}
        self.xrefs: dict[str, dict[str, tuple[str, str] | None]] = {}
        self.golden_at_start: dict[tuple[str, str], RecordVersion | None] = {}
        self.versions: dict[tuple[str, str], list[RecordVersion]] = {}
        self.deleted: set[str] = set()
        self.memo: dict[Any, Any] = {}
        self.rids: dict[tuple[str, str], str] = {}
        self.records: list[dict[str, Any]] = []
        self.translated: dict[tuple[str, int], dict[str, Any] | TranslationError] = {}
        self.links: list[Any] = []  # pssync's own records read back, to link (echo.Written)
        # The page's refused records, raised together (`raise_refused`): one transaction and
        # one audit-chain append for the page instead of one each.
        self.refusals: list[NewException] = []

    # -- PageContext ---------------------------------------------------------------------
    def translator(self, system: str) -> Translator:
        return self.rt.translator(system)

    def golden(self, entity_type: str, record_id: str) -> RecordVersion | None:
        """`store.get(entity_type, record_id)` as of the page's start, read once per record."""
        key = (entity_type, record_id)
        if key not in self.golden_at_start or record_id in self.deleted:
            self.golden_at_start[key] = self.store.get(entity_type, record_id)
        return self.golden_at_start[key]

    def page_fields(self) -> list[dict[str, Any]]:
        found = [self._translate(self.obj, r) for r in self.records if not r.get("deleted")]
        return [f for f in found if not isinstance(f, TranslationError)]

    # -- shared reads --------------------------------------------------------------------
    def _prefetch(
        self,
        events: list[Event],
        *,
        versions: bool = True,
        known: Mapping[str, Any] | None = None,
    ) -> None:
        """Read what the page's records need in a few queries: their xref entries and (unless
        `versions` is off, for nested lines) the golden versions behind them. `known`: records
        pssync wrote itself (source ID -> its ledger entry), whose canonical ID is the one they
        were written from while the xref map does not know them yet."""
        source_ids = [e.source_id for e in events]
        found_ids = resolve_xrefs(self.store.engine, self.system, self.obj, source_ids)
        self.xrefs[self.obj] = {i: found_ids.get(i) for i in source_ids}
        for source_id, written in (known or {}).items():
            if self.xrefs[self.obj].get(source_id) is None:
                self.xrefs[self.obj][source_id] = (written.entity_type, written.record_id)
        if not versions:
            return
        keys = [(self.entity_type, self._canonical_id(self.obj, i)) for i in source_ids]
        held = known_versions(self.store.engine, keys)
        self.versions = {key: held.get(key, []) for key in keys}
        self.golden_at_start = {key: version_at(self.versions[key]) for key in keys}

    def _canonical_id(self, obj: str, source_id: str) -> str:
        """`ids.canonical_id` from the page's xref read, worked out once per source record and
        page (the xref map changes when the page is written, at its end)."""
        found = self.rids.get((obj, source_id))
        if found is not None:
            return found
        entity_type = self.own_translator.object_map(obj).entity
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
        """`to_canonical` of one of the page's records, once per page (a stage may have
        translated the page already); a failure is kept to be raised where it is handled."""
        key = (obj, id(record))
        if key not in self.translated:
            try:
                self.translated[key] = self.own_translator.to_canonical(obj, record["data"])
            except TranslationError as exc:
                self.translated[key] = exc
        return self.translated[key]

    def _fields(self, obj: str, record: dict[str, Any]) -> dict[str, Any]:
        """Translate, then enrich (the govern stage's enrichers: canonical references...)."""
        found = self._translate(obj, record)
        if isinstance(found, TranslationError):
            raise found
        fields = dict(found)
        for enrich in self.stages.enrich:
            fields = enrich(self, obj, fields)
        return fields

    def _govern(self, record: Any) -> None:
        for check in self.stages.check:
            check(self, record)

    # -- outcomes ------------------------------------------------------------------------
    def _keep(self, canonical: Any, rid: str, valid_from: dt.datetime, event: Event) -> None:
        """Queue `canonical` (record `rid`) for the page's write at its end."""
        self.merged[rid] = canonical.model_dump(mode="json")
        self.payloads.append(self.merged[rid])
        source = f"{self.system}:{self.obj}:{event.source_id}"
        self.changes.append(Change(canonical, valid_from, self.system, source))

    def _decide(self, event: Event, status: Status, record_id: str | None = None) -> Decision:
        decision = Decision(event, status, self.entity_type, record_id)
        self.result.decisions.append(decision)
        return decision

    def _refused(self, record: dict[str, Any], event: Event, rid: str, exc: Exception) -> Decision:
        """A record the translate or govern stage refused, as an exception naming the field."""
        if isinstance(exc, TranslationError):
            first = exc.problems[0] if exc.problems else None
            category, extra = "invalid_record", dict[str, Any]()
            if first is not None and first.crosswalk:
                category = self.stages.crosswalk_categories.get(first.crosswalk, "unmapped_value")
                extra = {"value": first.value, "crosswalk": first.crosswalk}
            field_name = first.field if first else None
            return self._reject(record, event, rid, category, str(exc), field_name, extra)
        if isinstance(exc, RejectedError):
            return self._reject(
                record, event, rid, exc.category, str(exc), exc.field, keep=exc.keep
            )
        return self._reject(record, event, rid, "invalid_record", str(exc), None)

    def _reject(
        self,
        record: dict[str, Any],
        event: Event,
        rid: str,
        category: str,
        message: str,
        field: str | None,
        extra: dict[str, Any] | None = None,
        *,
        keep: bool = True,
    ) -> Decision:
        """Raise the record's exception; it holds the source record to replay unless the
        category's mode (`Stages.modes`) or the check rejects it outright."""
        keep = keep and self.stages.modes.get(category) != "reject"
        payload = {"system": self.system, "object": self.obj, "record": record}
        self.refusals.append(
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
                    **({} if keep else {"policy": "reject"}),
                },
                payload=json.dumps(payload, default=str) if keep else None,
                correlation_id=event.key,
            )
        )
        return self._decide(event, Status.REJECTED, rid)

    def raise_refused(self) -> None:
        """Raise the exceptions of the records the page refused so far, in one batch, before
        the page's write: a crash before it re-applies the page, which refuses them again."""
        if self.refusals:
            self.exceptions.raise_many(self.refusals, actor="engine")
            self.refusals = []


def moment(text: str | None) -> dt.datetime:
    """A source record's modification stamp (now when it has none), timezone-aware."""
    if not text:
        return utcnow()
    found = dt.datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
