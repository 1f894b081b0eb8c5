"""Which golden record is which truth record.

A truth record carries the vendor IDs that name it (its `xrefs`); the golden store keeps the
same map. A truth record matches the golden record of its type that shares the most vendor IDs
with it (on a tie, the one holding its system of record's ID). Records no vendor numbers on
its own (contract lines, billing schedules, resource requests) match by a natural key over
their already-matched references (a contract line is its project's line of that revenue
method). Reference data keeps its IDs, so equal IDs match.
Matching is one to one: a golden record taken by one truth record is not given to another,
so two golden records for one truth record show as a match and an extra ("split").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pssync.fidelity.compare import canonical, natural_key, translate
from pssync.fidelity.truth import SourceKey, TruthRecord

RecordKey = tuple[str, str]

#: Dependency order: a type's references are matched before it.
ORDER = (
    "Currency",
    "FxRate",
    "Region",
    "LegalEntity",
    "TaxCode",
    "ServiceLine",
    "Role",
    "Department",
    "ProjectTemplate",
    "Account",
    "Contact",
    "Resource",
    "Opportunity",
    "Quote",
    "Project",
    "WbsElement",
    "ResourceRequest",
    "Assignment",
    "ContractLine",
    "BillingSchedule",
    "BillingMilestone",
    "Invoice",
    "Payment",
    "TimeEntry",
    "CostActual",
    "RevenueEvent",
)
#: For records matched neither by vendor ID nor by equal ID: what identifies them in the firm.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "ContractLine": ("project_id", "revenue_method"),
    "BillingSchedule": ("contract_line_id",),
    "BillingMilestone": ("contract_line_id", "due_date"),
    "ResourceRequest": ("project_id", "role_id"),
    "Assignment": ("project_id", "resource_id", "start_date"),
    "Invoice": ("number",),
    "Payment": ("invoice_id", "received_date"),
    "CostActual": ("project_id", "posting_date", "amount"),
    "RevenueEvent": ("project_id", "recognized_date", "amount"),
    "TimeEntry": ("resource_id", "work_date", "project_id"),
}


@dataclass
class Matching:
    """truth (type, ID) -> golden ID; what is missing, extra, and how each pair was matched."""

    ids: dict[RecordKey, str] = field(default_factory=dict)
    how: dict[RecordKey, str] = field(default_factory=dict)  # "xref" | "id" | "natural_key"
    missing: list[RecordKey] = field(default_factory=list)
    extra: list[RecordKey] = field(default_factory=list)
    #: extra golden record -> the truth record another golden record already stands for.
    split_of: dict[RecordKey, RecordKey] = field(default_factory=dict)


def ordered_types(types: Iterable[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(set(types), key=lambda t: (rank.get(t, len(ORDER)), t))


def loose_index(
    by_source: Mapping[SourceKey, RecordKey],
) -> dict[tuple[str, str, str], RecordKey]:
    """(system, ID, entity type) -> record, for IDs no two objects of the system share."""
    seen: dict[tuple[str, str, str], RecordKey | None] = {}
    for (system, _obj, ident), key in by_source.items():
        k = (system, ident, key[0])
        seen[k] = key if k not in seen or seen[k] == key else None
    return {k: v for k, v in seen.items() if v is not None}


def match(
    truth: Mapping[RecordKey, TruthRecord],
    golden: Mapping[RecordKey, Mapping[str, Any]],
    by_source: Mapping[SourceKey, RecordKey],
) -> Matching:
    """Pair truth records with golden records, type by type in dependency order."""
    out = Matching()
    truth_by_type: dict[str, list[TruthRecord]] = defaultdict(list)
    for record in truth.values():
        truth_by_type[record.entity_type].append(record)
    golden_by_type: dict[str, list[str]] = defaultdict(list)
    for entity_type, record_id in golden:
        golden_by_type[entity_type].append(record_id)
    taken: set[RecordKey] = set()
    loose = loose_index(by_source)
    for entity_type in ordered_types([*truth_by_type, *golden_by_type]):
        records = sorted(truth_by_type.get(entity_type, []), key=lambda r: r.record_id)
        pending = [r for r in records if not _by_vendor_id(out, r, golden, by_source, loose, taken)]
        pending = [r for r in pending if not _by_same_id(out, r, golden, taken)]
        _by_natural_key(out, entity_type, pending, golden, taken)
        for record_id in sorted(golden_by_type.get(entity_type, [])):
            if (entity_type, record_id) not in taken:
                out.extra.append((entity_type, record_id))
    _splits(out, truth, by_source)
    return out


def _take(
    out: Matching, record: TruthRecord, golden_id: str, how: str, taken: set[RecordKey]
) -> None:
    key = (record.entity_type, record.record_id)
    out.ids[key] = golden_id
    out.how[key] = how
    taken.add((record.entity_type, golden_id))


def _by_vendor_id(
    out: Matching,
    record: TruthRecord,
    golden: Mapping[RecordKey, Mapping[str, Any]],
    by_source: Mapping[SourceKey, RecordKey],
    loose: Mapping[tuple[str, str, str], RecordKey],
    taken: set[RecordKey],
) -> bool:
    """By the vendor IDs both sides hold. A system's ID for one entity type names the same
    record whatever the object is called (NetSuite journal entries are read as two objects,
    revenue and cost), so the object is compared only when it is needed to tell IDs apart."""
    shared: dict[str, int] = defaultdict(int)
    for source in record.sources:
        for found in (by_source.get(source), loose.get((source[0], source[2], record.entity_type))):
            if found and found[0] == record.entity_type and found in golden and found not in taken:
                shared[found[1]] += 1
                break
    if not shared:
        return False
    # Ties go to the record of the truth's system of record (a project is the PSA's workspace
    # before it is the ERP's job), so a split shows as an extra ERP record, not as every
    # time entry pointing at the "wrong" half.
    primary = by_source.get(record.primary) if record.primary else None
    best = min(
        shared,
        key=lambda gid: (-shared[gid], (record.entity_type, gid) != primary, gid),
    )
    _take(out, record, best, "xref", taken)
    return True


def _by_same_id(
    out: Matching,
    record: TruthRecord,
    golden: Mapping[RecordKey, Mapping[str, Any]],
    taken: set[RecordKey],
) -> bool:
    key = (record.entity_type, record.record_id)
    if key in golden and key not in taken:
        _take(out, record, record.record_id, "id", taken)
        return True
    return False


def _by_natural_key(
    out: Matching,
    entity_type: str,
    pending: list[TruthRecord],
    golden: Mapping[RecordKey, Mapping[str, Any]],
    taken: set[RecordKey],
) -> None:
    fields = NATURAL_KEYS.get(entity_type)
    index: dict[tuple[str, ...], list[str]] = defaultdict(list)
    if fields:
        for (et, gid), payload in sorted(golden.items()):
            if et == entity_type and (et, gid) not in taken:
                found = natural_key(canonical(et, payload), fields)
                if found is not None:
                    index[found].append(gid)
    for record in pending:
        key = None
        if fields:
            translated = translate(entity_type, canonical(entity_type, record.payload), out.ids)
            key = natural_key(translated, fields)
        candidates = index.get(key, []) if key is not None else []
        if candidates:
            _take(out, record, candidates.pop(0), "natural_key", taken)
        else:
            out.missing.append((record.entity_type, record.record_id))


def _splits(
    out: Matching, truth: Mapping[RecordKey, TruthRecord], by_source: Mapping[SourceKey, RecordKey]
) -> None:
    """An extra golden record holding a vendor ID of a matched truth record is a split of it
    (one thing in the firm, two records in golden: identity was not resolved)."""
    owner: dict[RecordKey, RecordKey] = {}
    for key, record in truth.items():
        if key in out.ids:
            for source in record.sources:
                found = by_source.get(source)
                if found is not None and found[0] == record.entity_type:
                    owner.setdefault(found, key)
    for key in out.extra:
        if key in owner:
            out.split_of[key] = owner[key]
