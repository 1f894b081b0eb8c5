"""Record by record: per entity type, matched / missing / extra / fields that differ, each
difference with the open exception that explains it, or none (a defect)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pssync.fidelity.compare import REFERENCE_FIELDS, canonical, diff_fields, translate
from pssync.fidelity.explain import Explainer, Explanation
from pssync.fidelity.golden import GoldenView
from pssync.fidelity.matching import Matching, match, ordered_types
from pssync.fidelity.truth import SourceKey, TruthRecord
from pssync.fidelity.unrecorded import ROLE_OF_SYSTEM, handed_off, not_recorded, owner_of

RecordKey = tuple[str, str]


@dataclass
class Difference:
    kind: str  # missing | extra | field
    entity_type: str
    truth_id: str | None
    golden_id: str | None
    field: str | None = None
    truth: Any = None
    golden: Any = None
    explanation: Explanation | None = None
    note: str | None = None
    #: Why no source system records the truth's value (`unrecorded`): neither a defect nor
    #: explained by an exception, counted apart.
    not_recorded: str | None = None

    @property
    def explained(self) -> bool:
        return self.explanation is not None

    @property
    def unexplained(self) -> bool:
        return self.explanation is None and self.not_recorded is None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "entity_type": self.entity_type,
            "truth_id": self.truth_id,
            "golden_id": self.golden_id,
        }
        if self.kind == "field":
            out |= {"field": self.field, "truth": self.truth, "golden": self.golden}
        if self.note:
            out["note"] = self.note
        if self.not_recorded:
            out["not_recorded"] = self.not_recorded
        out["explained_by"] = self.explanation.as_dict() if self.explanation else None
        return out

    def describe(self) -> str:
        ids = f"truth {self.truth_id} / golden {self.golden_id}"
        if self.kind == "field":
            what = f"{self.field}: truth {self.truth!r} vs golden {self.golden!r}"
        else:
            what = self.kind
        what += f" ({self.note})" if self.note else ""
        return f"{self.entity_type} {ids}: {what}"


@dataclass
class TypeStats:
    truth: int = 0
    golden: int = 0
    matched: int = 0
    identical: int = 0
    missing: int = 0
    extra: int = 0
    field_differences: int = 0
    not_recorded: int = 0
    unexplained: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class RecordsResult:
    by_type: dict[str, TypeStats] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    matching: Matching = field(default_factory=Matching)

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.unexplained]

    @property
    def not_recorded(self) -> list[Difference]:
        return [d for d in self.differences if d.not_recorded]

    def totals(self) -> TypeStats:
        out = TypeStats()
        for stats in self.by_type.values():
            for name, value in stats.__dict__.items():
                setattr(out, name, getattr(out, name) + value)
        return out


def compare_records(truth: Mapping[RecordKey, TruthRecord], golden: GoldenView) -> RecordsResult:
    result = RecordsResult(matching=match(truth, golden.records, golden.by_source))
    m = result.matching
    explainer = Explainer(golden.exceptions)
    stats: dict[str, TypeStats] = {}
    for entity_type, _ in truth:
        stats.setdefault(entity_type, TypeStats()).truth += 1
    for entity_type, _ in golden.records:
        stats.setdefault(entity_type, TypeStats()).golden += 1
    held_back: dict[RecordKey, Explanation | None] = {}
    #: Fields golden lacks (empty, or a reference that never resolved) for an explained reason,
    #: which the records filled from them inherit (a project's region from its deal's, empty
    #: while the deal's account is held).
    gaps: dict[tuple[RecordKey, str], Explanation] = {}
    for key in m.missing:
        record = truth[key]
        why = explainer.missing(key[0], record.sources)
        held_back[key] = why
        stats[key[0]].missing += 1
        result.differences.append(Difference("missing", key[0], key[1], None, explanation=why))
    rank = {t: i for i, t in enumerate(ordered_types([*stats]))}
    for key, golden_id in sorted(m.ids.items(), key=lambda item: (rank[item[0][0]], item[0])):
        record = truth[key]
        stats[key[0]].matched += 1
        want = translate(key[0], canonical(key[0], record.payload), m.ids)
        golden_payload = golden.records[(key[0], golden_id)]
        got = canonical(key[0], golden_payload)
        sources = record.sources | golden.sources.get((key[0], golden_id), set())
        changed = diff_fields(want, got)
        stats[key[0]].identical += not changed
        stats[key[0]].field_differences += len(changed)
        for name, (t, g) in changed.items():
            lacking = _lacking(name, g, key[0], golden.records)
            why = (
                explainer.field(key[0], golden_id, sources, name)
                or _through_reference(key[0], name, t, truth, held_back)
                or _dangling(explainer, key[0], name, g, sources)
            )
            if why is None and lacking:
                why = _derived(key[0], name, record.payload, truth, held_back, gaps) or (
                    _derived_dangling(explainer, key[0], name, golden_payload, sources)
                )
            if why is None:
                absent = record.sources - golden.sources.get((key[0], golden_id), set())
                why = _part_held(explainer, key[0], name, lacking, absent)
            if why is not None and lacking:
                gaps[(key, name)] = why
            result.differences.append(
                Difference(
                    "field",
                    key[0],
                    key[1],
                    golden_id,
                    name,
                    t,
                    g,
                    why,
                    _split_note(m, key[0], name, g),
                    None
                    if why
                    else not_recorded(key[0], name, t, g, sources)
                    or handed_off(key, name, truth, golden.sources, m.ids),
                )
            )
    extra_why: dict[RecordKey, Explanation] = {}
    for key in sorted(m.extra, key=lambda k: (rank.get(k[0], len(rank)), k)):
        split = m.split_of.get(key)
        why = explainer.extra(key[0], key[1], golden.sources.get(key, set())) or _drafted_for(
            explainer, key, golden, extra_why
        )
        if why is not None:
            extra_why[key] = why
        stats[key[0]].extra += 1
        note = f"a second golden record for truth {split[1]}" if split else None
        result.differences.append(
            Difference("extra", key[0], None, key[1], explanation=why, note=note)
        )
    for d in result.differences:
        stats[d.entity_type].unexplained += d.unexplained
        stats[d.entity_type].not_recorded += d.not_recorded is not None
    result.by_type = {t: stats[t] for t in ordered_types(stats)}
    return result


def _part_held(
    explainer: Explainer, entity_type: str, name: str, lacking: bool, absent: set[SourceKey]
) -> Explanation | None:
    """A field golden lacks, or holds from another system, because the vendor record that
    carries it is held back while the rest of the record landed: a CRM account refused for its
    tax code, its ERP customer synced (the name and industry are the CRM's)."""
    owner = owner_of(entity_type, name)
    for source in sorted(absent):
        if not lacking and owner != ROLE_OF_SYSTEM.get(source[0]):
            continue
        why = explainer.missing(entity_type, [source])
        if why is not None:
            return Explanation(why.exception_id, why.category, via=" ".join(source))
    return None


#: Exceptions on a deal that explain what pssync's flows made for it and the firm never did.
STALE_DEAL = frozenset({"stale_stage"})


def _drafted_for(
    explainer: Explainer,
    key: RecordKey,
    golden: GoldenView,
    extra_why: Mapping[RecordKey, Explanation],
) -> Explanation | None:
    """An extra record pssync made for a deal whose stage is stale (a project drafted for a
    deal the CRM still shows in Proposal long past its close date), or part of such a record
    (its WBS elements): explained by the deal's open stale-stage exception."""
    payload = golden.records.get(key, {})
    project = payload.get("project_id")
    if isinstance(project, str) and ("Project", project) in extra_why:
        why = extra_why[("Project", project)]
        return Explanation(why.exception_id, why.category, via=f"Project {project}")
    deal = payload.get("opportunity_id")
    if not isinstance(deal, str):
        return None
    found = [
        e
        for e in explainer.about(
            "Opportunity", deal, golden.sources.get(("Opportunity", deal), set())
        )
        if e.category in STALE_DEAL
    ]
    return Explanation(found[0].id, found[0].category, via=f"Opportunity {deal}") if found else None


def _split_note(m: Matching, entity_type: str, name: str, golden_value: Any) -> str | None:
    """A reference to the second golden record of a split: the split is the defect."""
    if name not in REFERENCE_FIELDS or not isinstance(golden_value, str):
        return None
    target = m.split_of.get((REFERENCE_FIELDS[name] or entity_type, golden_value))
    return None if target is None else f"points at the second golden record for {target[1]}"


def _through_reference(
    entity_type: str,
    name: str,
    truth_value: Any,
    truth: Mapping[RecordKey, TruthRecord],
    held_back: Mapping[RecordKey, Explanation | None],
) -> Explanation | None:
    """A reference to a truth record golden does not hold for an explained reason."""
    if name not in REFERENCE_FIELDS or not isinstance(truth_value, str):
        return None
    target = (REFERENCE_FIELDS[name] or entity_type, truth_value)
    why = held_back.get(target)
    if why is None or target not in truth:
        return None
    return Explanation(why.exception_id, why.category, via=f"{target[0]} {target[1]}")


def _dangling(
    explainer: Explainer, entity_type: str, name: str, golden_value: Any, sources: set[SourceKey]
) -> Explanation | None:
    """A reference golden still holds as the source's own ID (it never resolved) to a vendor
    record an open exception holds back: a deal of an account refused for its tax code."""
    if name not in REFERENCE_FIELDS or not isinstance(golden_value, str):
        return None
    target = REFERENCE_FIELDS[name] or entity_type
    systems = {system for system, _obj, _id in sources}
    why = explainer.missing(target, [(system, target, golden_value) for system in systems])
    if why is None:
        return None
    return Explanation(why.exception_id, why.category, via=f"{target} {golden_value}")


#: Fields pssync fills from another record when the source leaves them out (governance.enrich),
#: with the references that lead to that record: a deal's region from its account, a staffing
#: request's region and a booking's rate from the project's deal.
DERIVED_FROM: dict[tuple[str, str], tuple[str, ...]] = {
    ("Opportunity", "region_id"): ("account_id",),
    ("Project", "service_line_id"): ("opportunity_id",),
    # a Kantata workspace names its customer by its workspace group, which pssync does not
    # know: the deal's account is taken instead
    ("Project", "account_id"): ("opportunity_id",),
    ("Project", "region_id"): ("opportunity_id",),
    ("Project", "legal_entity_id"): ("opportunity_id",),
    ("ResourceRequest", "region_id"): ("project_id", "opportunity_id"),
    ("Assignment", "bill_rate"): ("project_id", "opportunity_id"),
    ("RevenueEvent", "region_id"): ("project_id", "opportunity_id"),
    ("RevenueEvent", "service_line_id"): ("project_id", "opportunity_id"),
    ("RevenueEvent", "revenue_method"): ("project_id", "opportunity_id"),
}


def _lacking(
    name: str, golden_value: Any, entity_type: str, records: Mapping[RecordKey, Any]
) -> bool:
    """Whether golden lacks the field: empty, or a reference naming no golden record (the
    source's own ID, which never resolved)."""
    if golden_value in (None, ""):
        return True
    target = REFERENCE_FIELDS.get(name, "")
    return name in REFERENCE_FIELDS and (target or entity_type, str(golden_value)) not in records


def _derived(
    entity_type: str,
    name: str,
    payload: Mapping[str, Any],
    truth: Mapping[RecordKey, TruthRecord],
    held_back: Mapping[RecordKey, Explanation | None],
    gaps: Mapping[tuple[RecordKey, str], Explanation],
) -> Explanation | None:
    """A field golden lacks because the record pssync fills it from (through the truth's own
    references) is held back by an open exception, or lacks that same field for an explained
    reason: a staffing request of a deal refused for its free-text category has no region
    until the deal is fixed, nor a project whose deal's account was refused."""
    path = DERIVED_FROM.get((entity_type, name))
    if path is None:
        return None
    current = payload
    for ref in path:
        value = current.get(ref)
        target = (REFERENCE_FIELDS[ref] or entity_type, str(value))
        why = held_back.get(target) or gaps.get((target, name))
        if why is not None:
            return Explanation(why.exception_id, why.category, via=f"{target[0]} {target[1]}")
        if value is None or target not in truth:
            return None
        current = truth[target].payload
    return None


def _derived_dangling(
    explainer: Explainer,
    entity_type: str,
    name: str,
    golden_payload: Mapping[str, Any],
    sources: set[SourceKey],
) -> Explanation | None:
    """A derived field left empty because the record's own reference to its source record never
    resolved, that record being held back (a deal's region, its account refused)."""
    path = DERIVED_FROM.get((entity_type, name))
    if path is None:
        return None
    return _dangling(explainer, entity_type, path[0], golden_payload.get(path[0]), sources)
