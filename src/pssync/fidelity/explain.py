"""Which open exception explains a difference between truth and golden, if any.

An exception explains a difference when it is about the same record — raised on the golden
record, or on one of the vendor records behind it — and its category is the right kind:

* a truth record missing from golden: the record was held back (an ingest-stage exception, or
  a category that keeps a record out until it is fixed);
* a field that differs: the exception names that field (``details.field``), or its category is
  about that field (a stale CRM delivery date is a ``psa_crm_date_mismatch``);
* an extra golden record: the exception says it is a duplicate of another record;
* a reference to a record that is itself missing for an explained reason is explained by that
  record's exception (the chain is kept: the difference names the exception that explains it).

Anything else is a defect: pssync lost, invented or changed something nobody was told about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pssync.fidelity.truth import SourceKey
from pssync.governance.exceptions import ExceptionRecord

RecordKey = tuple[str, str]
#: Categories that keep a record out of the golden store until it is fixed at its source.
HOLDS_BACK = frozenset(
    {
        "unmapped_value",
        "invalid_record",
        "orphan_line_item",
        "invalid_tax_code",
        "missing_legal_entity",
        "missing_attribute",
        "delivery_failed",
    }
)
#: Categories that explain a field other than the one they name.
FIELD_CATEGORIES: dict[str, frozenset[str]] = {
    "delivery_start": frozenset({"psa_crm_date_mismatch", "resource_conflict"}),
    "line_items": frozenset({"orphan_line_item"}),
    "project_code": frozenset({"won_without_erp_project", "delivery_failed"}),
}
DUPLICATES = frozenset({"duplicate_customer"})


@dataclass(frozen=True)
class Explanation:
    exception_id: str
    category: str
    via: str | None = None  # the record whose exception explains a reference to it

    def as_dict(self) -> dict[str, Any]:
        out = {"exception_id": self.exception_id, "category": self.category}
        return out | ({"via": self.via} if self.via else {})


class Explainer:
    """Open exceptions indexed by the golden records and vendor records they are about."""

    def __init__(self, exceptions: Iterable[ExceptionRecord]) -> None:
        self.by_golden: dict[RecordKey, list[ExceptionRecord]] = defaultdict(list)
        self.by_vendor: dict[tuple[str, str], list[ExceptionRecord]] = defaultdict(list)
        for exc in exceptions:
            if exc.entity_type and exc.record_id:
                self.by_golden[(exc.entity_type, exc.record_id)].append(exc)
            if exc.system:
                for ident in (exc.source_id, exc.details.get("parent")):
                    if ident:
                        self.by_vendor[(exc.system, str(ident))].append(exc)
            for candidate in exc.details.get("candidates") or []:
                if exc.entity_type and isinstance(candidate, dict) and candidate.get("record_id"):
                    self.by_golden[(exc.entity_type, str(candidate["record_id"]))].append(exc)

    def about(
        self, entity_type: str, golden_id: str | None, sources: Iterable[SourceKey]
    ) -> list[ExceptionRecord]:
        found: dict[str, ExceptionRecord] = {}
        if golden_id is not None:
            for exc in self.by_golden.get((entity_type, golden_id), []):
                found[exc.id] = exc
        for system, _obj, ident in sources:
            for exc in self.by_vendor.get((system, ident), []):
                if exc.entity_type in (None, entity_type):
                    found[exc.id] = exc
        return sorted(found.values(), key=lambda e: (e.created_at, e.id))

    @staticmethod
    def _first(found: list[ExceptionRecord]) -> Explanation | None:
        return Explanation(found[0].id, found[0].category) if found else None

    def missing(
        self, entity_type: str, sources: Iterable[SourceKey], golden_id: str | None = None
    ) -> Explanation | None:
        return self._first(
            [
                e
                for e in self.about(entity_type, golden_id, sources)
                if e.category in HOLDS_BACK or e.details.get("stage") == "ingest"
            ]
        )

    def field(
        self, entity_type: str, golden_id: str, sources: Iterable[SourceKey], name: str
    ) -> Explanation | None:
        allowed = FIELD_CATEGORIES.get(name, frozenset())
        return self._first(
            [
                e
                for e in self.about(entity_type, golden_id, sources)
                if e.details.get("field") == name or e.category in allowed
            ]
        )

    def extra(
        self, entity_type: str, golden_id: str, sources: Iterable[SourceKey]
    ) -> Explanation | None:
        return self._first(
            [e for e in self.about(entity_type, golden_id, sources) if e.category in DUPLICATES]
        )
