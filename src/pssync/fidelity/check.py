"""`check_fidelity`: the golden store against a canonical truth, end to end.

Record by record (`records`), exceptions against the planted answer key (`planted`), and the
forecast and KPIs on both (`outcomes`). It reads the golden store, its exceptions and an
analytics mirror of its own (in memory, so a check never adds versions to the user's file);
never the live systems.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pssync.fidelity.golden import GoldenView, read_golden
from pssync.fidelity.outcomes import compare_forecast, compare_kpis
from pssync.fidelity.planted import PlantedScore, duplicate_pairs, score
from pssync.fidelity.records import Difference, RecordsResult, compare_records
from pssync.fidelity.truth import Planted, SourceKey, TruthRecord, read_truth
from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.governance.exceptions import ExceptionStore
from pssync.store import GoldenStore

#: Planted kind -> the field of its record that shows whether it reached golden.
KIND_FIELD = {
    "free_text_service_category": "service_line_id",
    "invalid_tax_code": "tax_code_id",
    "missing_legal_entity": "legal_entity_id",
}
#: Planted kind -> the entity type of the record it is planted on.
KIND_ENTITY = {
    "free_text_service_category": "Opportunity",
    "stale_stage": "Opportunity",
    "won_without_erp_project": "Opportunity",
    "psa_crm_date_mismatch": "Project",
    "invalid_tax_code": "Account",
    "missing_legal_entity": "Account",
    "duplicate_customer": "Account",
}
TARGET_SHARE = 0.95


@dataclass
class FidelityReport:
    as_of: dt.date
    records: RecordsResult
    planted: PlantedScore | None
    forecast: dict[str, Any] | None = None
    kpis: dict[str, Any] | None = None
    missing_types: list[str] = field(default_factory=list)

    def acceptance(self) -> dict[str, bool | None]:
        p = self.planted
        return {
            "every_entity_type_present": not self.missing_types,
            "no_unexplained_differences": not self.records.unexplained,
            "forecast_within_1pct": None
            if self.forecast is None
            else all(v["within_1pct"] for v in self.forecast.values() if isinstance(v, dict)),
            "kpis_within_tolerance": None
            if self.kpis is None
            else all(v["within_tolerance"] for v in self.kpis.values()),
            "precision_recall_at_least_95pct": None
            if p is None
            else (p.precision or 0) >= TARGET_SHARE and (p.recall or 0) >= TARGET_SHARE,
        }

    def identical_share(self) -> float:
        totals = self.records.totals()
        return totals.identical / totals.truth if totals.truth else 1.0

    def headline(self) -> str:
        diffs = self.records.differences
        unexplained = len(self.records.unexplained)
        unrecorded = len(self.records.not_recorded)
        explained = len(diffs) - unexplained - unrecorded
        text = (
            f"golden store vs firm: {self.identical_share():.1%} of records identical; "
            f"{len(diffs)} differences, "
            + (
                "all explained by open exceptions"
                if not unexplained and not unrecorded
                else f"{explained} explained by open exceptions, "
                + (f"{unrecorded} not recorded by any source system, " if unrecorded else "")
                + f"{unexplained} unexplained"
            )
        )
        if self.forecast is not None:
            rel = self.forecast["total"]["relative"]
            text += "; forecast " + ("vs a zero truth" if rel is None else f"{rel:.1%} from truth")
            total = self.forecast["total"]
            if rel and "held_back" in total:
                text += (
                    f" ({_millions(total['held_back'])} held back by open exceptions,"
                    f" {_millions(total['unexplained'])} not explained)"
                )
        return text

    def as_dict(self, limit: int = 50) -> dict[str, Any]:
        totals = self.records.totals()
        unexplained = self.records.unexplained
        explained = Counter(
            d.explanation.category for d in self.records.differences if d.explanation
        )
        kinds = Counter(_kind(d) for d in unexplained)
        unrecorded: dict[str, dict[str, Any]] = {}
        for d in self.records.not_recorded:
            row = unrecorded.setdefault(_kind(d), {"count": 0, "why": d.not_recorded})
            row["count"] += 1
        return {
            "as_of": str(self.as_of),
            "headline": self.headline(),
            "acceptance": self.acceptance(),
            "records": {
                **totals.as_dict(),
                "identical_share": round(self.identical_share(), 4),
                "differences": len(self.records.differences),
                "explained": sum(d.explained for d in self.records.differences),
                "not_recorded": len(self.records.not_recorded),
                "entity_types_missing": self.missing_types,
                "by_type": {t: s.as_dict() for t, s in self.records.by_type.items()},
            },
            "explained_by_category": dict(explained.most_common()),
            "not_recorded_by_any_source": unrecorded,
            "unexplained_by_kind": dict(kinds.most_common()),
            "unexplained_examples": [d.as_dict() for d in unexplained[:limit]],
            "planted": None if self.planted is None else self.planted.as_dict(),
            "forecast": self.forecast,
            "kpis": self.kpis,
        }


def _kind(d: Difference) -> str:
    return f"{d.entity_type} {d.kind}" + (f" {d.field}" if d.field else "")


def _millions(amount: str) -> str:
    return f"{float(amount) / 1e6:+.2f}M"


def _absorbed(
    planted: Sequence[Planted],
    truth: dict[tuple[str, str], TruthRecord],
    records: RecordsResult,
    golden: GoldenView,
) -> list[Planted]:
    """Planted problems that never reached golden: the record arrived with the truth's value
    of the field the problem is about, or — a won deal the firm never handed to the ERP —
    pssync handed it off (golden has a coded project for the deal)."""
    owner = _owners(truth)
    wrong = {(d.entity_type, d.truth_id, d.field) for d in records.differences}
    coded = {
        str(p.get("opportunity_id"))
        for (et, _), p in golden.records.items()
        if et == "Project" and p.get("project_code") and p.get("opportunity_id")
    }
    out = []
    for p in planted:
        name = KIND_FIELD.get(p.kind)
        key = _planted_record(p, owner)
        if key is None or key not in records.matching.ids:
            continue
        same = bool(name) and (*key, name) not in wrong
        handed_off = p.kind == "won_without_erp_project" and records.matching.ids[key] in coded
        if same or handed_off or _date_fed_back(p, truth[key], records, wrong):
            out.append(p)
    return out


def _owners(truth: dict[tuple[str, str], TruthRecord]) -> dict[SourceKey, list[tuple[str, str]]]:
    """The truth records each vendor record stands for: several at times (a Kantata workspace
    names its project, its staffing requests and its WBS elements)."""
    owner: dict[SourceKey, list[tuple[str, str]]] = {}
    for key, record in truth.items():
        for source in record.sources:
            owner.setdefault(source, []).append(key)
    return owner


def _planted_record(
    p: Planted, owner: dict[SourceKey, list[tuple[str, str]]]
) -> tuple[str, str] | None:
    """The truth record a planted problem is about: of the records its vendor record names,
    the one of the kind's entity type."""
    keys = owner.get(p.source, [])
    wanted = KIND_ENTITY.get(p.kind)
    return next((k for k in keys if k[0] == wanted), keys[0] if keys else None)


def _date_fed_back(
    p: Planted,
    project: TruthRecord,
    records: RecordsResult,
    wrong: set[tuple[str, str | None, str | None]],
) -> bool:
    """A CRM delivery date the PSA moved (planted on the PSA project): absorbed when the deal
    reached golden with the PSA's date (resource feedback carried it back)."""
    deal = project.payload.get("opportunity_id")
    if p.kind != "psa_crm_date_mismatch" or not isinstance(deal, str):
        return False
    key = ("Opportunity", deal)
    return key in records.matching.ids and (*key, "delivery_start") not in wrong


def _without_held(lines: Sequence[str], records: RecordsResult) -> list[str]:
    """The truth less the records golden lacks because an open exception holds them back (a
    deal refused for its free-text category): what the forecast could see until they are
    fixed and replayed."""
    held = {
        (d.entity_type, d.truth_id)
        for d in records.differences
        if d.kind == "missing" and d.explained
    }
    out = []
    for text in lines:
        line = json.loads(text)
        if (line.get("entity_type"), (line.get("payload") or {}).get("id")) not in held:
            out.append(text)
    return out


def check_fidelity(
    store: GoldenStore,
    truth_lines: Sequence[str],
    *,
    planted: Sequence[Planted] | None = None,
    as_of: dt.date | None = None,
    currency: str = "USD",
    exceptions: ExceptionStore | None = None,
    outcomes: bool = True,
    known_now: bool = False,
) -> FidelityReport:
    """Compare `store` with the truth; `outcomes=False` skips the forecast and KPIs, and
    `known_now` reads their as-of date with everything known now (as `pssync forecast
    --known-now` does) instead of what was known then."""
    truth = read_truth(truth_lines)
    golden: GoldenView = read_golden(store, exceptions)
    records = compare_records(truth, golden)
    date = as_of or dt.datetime.now(dt.UTC).date()
    report = FidelityReport(date, records, None)
    report.missing_types = sorted(t for t, s in records.by_type.items() if s.truth and not s.golden)
    if planted is not None:
        report.planted = score(
            planted,
            golden.exceptions,
            golden.sources,
            duplicate_pairs(planted),
            _absorbed(planted, truth, records, golden),
        )
    if outcomes:
        synced, truth_mirror, without = AnalyticsStore(), AnalyticsStore(), AnalyticsStore()
        try:
            synced.sync(store)
            load_truth(truth_mirror, truth_lines)
            load_truth(without, _without_held(truth_lines, records))
            report.forecast = compare_forecast(
                synced,
                truth_mirror,
                date,
                currency,
                known_now=known_now,
                truth_without_held=without,
            )
            report.kpis = compare_kpis(synced, truth_mirror, date, currency, known_now)
        finally:
            for mirror in (synced, truth_mirror, without):
                mirror.close()
    return report
