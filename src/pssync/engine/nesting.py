"""Nested lines: source objects that are part of another canonical record.

Salesforce keeps an opportunity's line items as separate records (`OpportunityLineItem`)
while the canonical `Opportunity` holds them in `line_items`: the estimate is one fact about
the deal, and the flows and the forecast read it with the deal. A line change is therefore a
new version of its parent. A line whose parent the golden store does not hold (the deal is
blocked by its own exception, or not read yet) waits in one exception per parent and is nested
when the parent arrives.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pssync.engine.inbox import Decision, Event, Status
from pssync.engine.page_state import PageState, Refusals, moment
from pssync.engine.runtime import Runtime
from pssync.mapping.translator import TranslationError
from pssync.model import parse_record
from pssync.store.problems import ACTIVE, NewException
from pssync.store.tables import exception_record, xref
from pssync.store.versions import Change


@dataclass(frozen=True)
class Nesting:
    """Where a nested object goes: its `parent` entity, the translated helper field naming the
    parent (`key`, a vendor ID or a canonical one once resolved; removed from the line) and
    the parent's list `field`."""

    parent: str
    key: str
    field: str


NESTED: dict[str, Nesting] = {
    "OpportunityLineItem": Nesting("Opportunity", "opportunity_id", "line_items"),
}
ORPHAN_CATEGORY = "orphan_line_item"


class NestedLines(PageState):
    """The nested-line part of a page: lines into parents, orphans held and released."""

    def __init__(self, runtime: Runtime, system: str, obj: str) -> None:
        super().__init__(runtime, system, obj)
        self.nesting = NESTED.get(self.entity_type)
        # line record ID -> parent record ID, and the parent's last valid_from in this page
        # (each line is one more version of its parent; versions must not go back).
        self.parent_of: dict[str, str] = {}
        self.parent_from: dict[str, dt.datetime] = {}
        # The parents' earlier versions, as lines are backdated into them (`_past`), and the
        # (parent, valid_from) of those the page changed.
        self.past: dict[str, list[list[Any]]] = {}
        self.backdated: set[tuple[str, dt.datetime]] = set()
        self.parents: dict[str, str | None] = {}
        # For parents: orphan lines waiting for them, by the parent's source ID.
        self.held: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}
        # Orphan lines this page holds, by their exception's fingerprint (`_hold`).
        self.holding: dict[str, list[dict[str, Any]]] = {}

    def _line(self, obj: str, record: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
        """(parent reference, canonical line, line ID) of one nested source record."""
        nesting = NESTED[self.own_translator.object_map(obj).entity]
        fields = self._fields(obj, record)
        parent_ref = str(fields.pop(nesting.key, "") or "")
        line_id = self._canonical_id(obj, str(record["id"]))
        return parent_ref, {**fields, "id": line_id}, line_id

    def _parent_id(self, ref: str) -> str | None:
        """The canonical ID of the parent a line names (vendor ID via the xref map, or already
        canonical when an enricher resolved it); None when the golden store lacks the parent."""
        if ref not in self.parents:  # the lines of one parent name it again and again
            self.parents[ref] = self._find_parent(ref)
        return self.parents[ref]

    def _find_parent(self, ref: str) -> str | None:
        assert self.nesting is not None
        if self.golden(self.nesting.parent, ref) is not None:
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
        return found if self.golden(self.nesting.parent, found) is not None else None

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
            golden = self.golden(nesting.parent, parent_rid)
            if current is None:
                assert golden is not None
                current = golden.payload
            lines = [x for x in current.get(nesting.field) or [] if x.get("id") != line_rid]
            if line:
                lines.append(line)
            lines.sort(key=lambda x: str(x.get("id")))
            canonical = parse_record(nesting.parent, {**current, nesting.field: lines})
            self._govern(canonical)
        except Refusals as exc:
            return self._refused(record, event, line_rid, exc)
        stamp = moment(record.get("modified_at"))
        floor = self.parent_from.get(parent_rid) or (golden.valid_from if golden else stamp)
        valid_from = max(stamp, floor)
        self.parent_from[parent_rid] = valid_from
        self.parent_of[line_rid] = parent_rid
        if stamp < valid_from and line:
            self._backdate(parent_rid, line_rid, line, stamp)
        self._keep(canonical, parent_rid, valid_from, event)
        return self._decide(event, Status.APPLIED, line_rid)

    def _backdate(
        self, parent_rid: str, line_rid: str, line: dict[str, Any], stamp: dt.datetime
    ) -> None:
        """A line the source stamps before its parent's current version (a deal's earlier
        states, backfilled from the source's history on a first sync) was part of the deal
        from its stamp: each earlier version valid after it gets the line too (split at the
        stamp), so a forecast as of those days sees the deal's estimate. The versions are
        written once per page, with all their lines (`backdated_changes`)."""
        assert self.nesting is not None
        field = self.nesting.field
        versions = self._past(parent_rid)
        if any(start < stamp < end for start, end, _ in versions if end is not None):
            at = next(i for i, (start, end, _) in enumerate(versions) if end and stamp < end)
            start, end, payload = versions[at]
            versions[at : at + 1] = [[start, stamp, payload], [stamp, end, dict(payload)]]
        for version in versions:
            start, end, payload = version
            if start < stamp or start >= self.parent_from[parent_rid]:
                continue
            lines = [x for x in payload.get(field) or [] if x.get("id") != line_rid]
            payload[field] = sorted([*lines, line], key=lambda x: str(x.get("id")))
            self.backdated.add((parent_rid, start))

    def backdated_changes(self) -> None:
        """The parents' earlier versions the page's lines joined, one change each, recorded
        now (called before the page is written)."""
        for parent_rid, start in sorted(self.backdated):
            assert self.nesting is not None
            payload = next(p for s, _, p in self.past[parent_rid] if s == start)
            record = parse_record(self.nesting.parent, payload)
            source = f"{self.system}:{self.obj}"
            self.changes.append(Change(record, start, self.system, source))
            self.payloads.append(record.model_dump(mode="json"))
        self.backdated.clear()

    def _past(self, parent_rid: str) -> list[list[Any]]:
        """[valid_from, valid_to, payload] of the parent's versions as known now, oldest
        first, kept for the page so that each line backdated adds to the ones before it."""
        if parent_rid not in self.past:
            assert self.nesting is not None
            self.past[parent_rid] = [
                [v.valid_from, v.valid_to, dict(v.payload)]
                for v in sorted(
                    self.store.history(self.nesting.parent, parent_rid),
                    key=lambda v: v.valid_from,
                )
                if v.recorded_to is None and not v.deleted
            ]
        return self.past[parent_rid]

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
        fingerprint = new.fingerprint()
        if fingerprint not in self.holding:
            self.holding[fingerprint] = self._held_before(fingerprint)
        held = [r for r in self.holding[fingerprint] if r["id"] != record["id"]]
        held.append(record)
        self.holding[fingerprint] = held
        new.details["lines"] = len(held)
        new.payload = json.dumps(
            {"system": self.system, "object": self.obj, "records": held}, default=str
        )
        new.correlation_id = event.key
        self.refusals.append(new)  # raised with the page's refusals; the last one stands
        return self._decide(event, Status.REJECTED, line_rid)

    def _held_before(self, fingerprint: str) -> list[dict[str, Any]]:
        """The lines an active orphan exception (by fingerprint) held before this page."""
        xr = exception_record.c
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(xr.payload).where(
                    xr.fingerprint == fingerprint,
                    xr.state.in_([s.value for s in ACTIVE]),
                )
            ).first()
        if row is None or not row.payload:
            return []
        return list(json.loads(row.payload).get("records", []))

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
        nesting = NESTED[self.own_translator.object_map(obj).entity]
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
