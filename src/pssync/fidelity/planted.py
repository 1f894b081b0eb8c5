"""Exceptions scored against the generator's answer key: precision and recall.

A planted misalignment is *detected* when an open exception of its kind's category is about the
same vendor record (or, for a duplicate, about either record of the pair). An open exception is
*true* when it detects a planted misalignment, or is a *consequence* of one (lines held back
because their deal was, a reference to a held-back account); exceptions that report a real
business condition rather than bad data (a start before capacity, a non-owner write the gate
refused) are left out of precision. Every other open exception is a false alarm: either a
problem nobody planted, or — what the check exists to catch — a gap in pssync's own mappings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pssync.fidelity.truth import Planted, SourceKey
from pssync.governance.exceptions import ExceptionRecord

#: Planted kind -> the exception categories that detect it.
DETECTS: dict[str, frozenset[str]] = {
    "free_text_service_category": frozenset({"unmapped_value"}),
    "missing_legal_entity": frozenset({"missing_legal_entity"}),
    "invalid_tax_code": frozenset({"invalid_tax_code"}),
    "duplicate_customer": frozenset({"duplicate_customer"}),
    "stale_stage": frozenset({"stale_stage"}),
    "psa_crm_date_mismatch": frozenset({"psa_crm_date_mismatch"}),
    "won_without_erp_project": frozenset({"won_without_erp_project", "delivery_failed"}),
}
#: Exceptions that follow from a planted problem on the record they point at.
CONSEQUENCES = frozenset({"orphan_line_item", "missing_attribute", "delivery_failed"})
#: Exceptions one planted kind brings on the record it is planted on: a customer typed again
#: in an ERP stands alone, without the CRM account that carries its contracting entity.
FOLLOWS_FROM: dict[str, frozenset[str]] = {
    "duplicate_customer": frozenset({"missing_legal_entity"})
}
_DUPLICATE_OF = re.compile(r"^duplicate of (\S+)")
#: Real business conditions, not data misalignments: not scored.
SIGNALS = frozenset({"resource_conflict", "non_owner_write", "sla_breach"})


@dataclass
class PlantedScore:
    planted: int = 0
    detected: int = 0
    exceptions: int = 0
    true_exceptions: int = 0
    signals: int = 0
    absorbed: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    undetected: list[Planted] = field(default_factory=list)
    false_alarms: list[ExceptionRecord] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.detected / self.planted if self.planted else None

    @property
    def precision(self) -> float | None:
        return self.true_exceptions / self.exceptions if self.exceptions else None

    def as_dict(self, limit: int = 20) -> dict[str, Any]:
        return {
            "planted": self.planted,
            "detected": self.detected,
            "absorbed_without_exception": self.absorbed,
            "recall": _round(self.recall),
            "exceptions_scored": self.exceptions,
            "true_exceptions": self.true_exceptions,
            "precision": _round(self.precision),
            "business_signals_not_scored": self.signals,
            "by_kind": self.by_kind,
            "undetected": [p.__dict__ for p in self.undetected[:limit]],
            "false_alarms": [
                {"id": e.id, "category": e.category, "message": e.message}
                for e in self.false_alarms[:limit]
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def duplicate_pairs(planted: Iterable[Planted]) -> dict[tuple[str, str], tuple[str, str]]:
    """A planted duplicate's vendor key -> its original's (``duplicate of <ID>``): the
    exception may be raised on either record of the pair."""
    out = {}
    for p in planted:
        found = _DUPLICATE_OF.match(p.detail)
        if p.kind == "duplicate_customer" and found:
            out[(p.system, p.record_id)] = (p.system, found.group(1))
    return out


def vendor_keys(
    exc: ExceptionRecord, golden_sources: Mapping[tuple[str, str], set[SourceKey]]
) -> set[tuple[str, str]]:
    """(system, vendor ID) of every vendor record an exception is about."""
    keys: set[tuple[str, str]] = set()
    if exc.system:
        for ident in (exc.source_id, exc.details.get("parent")):
            if ident:
                keys.add((exc.system, str(ident)))
    records = [exc.record_id] + [
        c.get("record_id") for c in exc.details.get("candidates") or [] if isinstance(c, dict)
    ]  # a duplicate is about its candidates as much as the record it was raised on
    for record_id in records:
        if exc.entity_type and record_id:
            found = golden_sources.get((exc.entity_type, str(record_id)), ())
            keys |= {(s, i) for s, _o, i in found}
    return keys


def score(
    planted: Iterable[Planted],
    exceptions: Iterable[ExceptionRecord],
    golden_sources: Mapping[tuple[str, str], set[SourceKey]],
    pairs: Mapping[tuple[str, str], tuple[str, str]] | None = None,
    absorbed: Iterable[Planted] = (),
) -> PlantedScore:
    """`pairs` links each duplicate's vendor key to its original's (either may be flagged);
    `absorbed` are planted problems that never reached golden (a free-text category the
    crosswalk maps to the right service line): handled without an exception, so detected."""
    out = PlantedScore()
    out.absorbed = len(set(absorbed))
    items = list(planted)
    by_key: dict[tuple[str, str], list[Planted]] = {}
    for p in items:
        for key in {(p.system, p.record_id), (pairs or {}).get((p.system, p.record_id))}:
            if key is not None:
                by_key.setdefault(key, []).append(p)
    detected: set[Planted] = set(absorbed)
    kinds: Counter[str] = Counter()
    for exc in exceptions:
        if exc.category in SIGNALS:
            out.signals += 1
            continue
        out.exceptions += 1
        related = [p for k in vendor_keys(exc, golden_sources) for p in by_key.get(k, [])]
        hits = [p for p in related if exc.category in DETECTS.get(p.kind, frozenset())]
        detected.update(hits)
        follows = any(exc.category in FOLLOWS_FROM.get(p.kind, ()) for p in related)
        if hits or follows or (related and exc.category in CONSEQUENCES):
            out.true_exceptions += 1
        else:
            out.false_alarms.append(exc)
    for p in items:
        kinds[p.kind] += 1
    out.planted = len(items)
    out.detected = len(detected)
    out.undetected = [p for p in items if p not in detected]
    for kind in sorted(kinds):
        found = sum(1 for p in detected if p.kind == kind)
        out.by_kind[kind] = {"planted": kinds[kind], "detected": found}
    return out
