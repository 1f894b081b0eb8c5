"""The generated firm: world records, ground-truth facts, per-system views and answer keys."""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pssync.sandbox.firm import canonical
from pssync.sandbox.firm.finance import Biller, Books
from pssync.sandbox.firm.reference import Reference
from pssync.sandbox.firm.timesheets import TimeTable, to_date
from pssync.sandbox.firm.truth import Fact
from pssync.sandbox.firm.units import at
from pssync.sandbox.firm.world import (
    AccountRec,
    Assignment,
    ContactRec,
    OppRec,
    Person,
    PostingRec,
    ProjectRec,
    SalesRep,
)
from pssync.sandbox.firm.xref import XrefBook, time_entry_id

Views = dict[str, dict[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class Misalignment:
    """One planted inconsistency in a system's view: the answer key for sync and governance."""

    kind: str
    system: str
    object: str
    record_id: str
    detail: str


@dataclass(frozen=True)
class DuplicatePair:
    """Two records in one system's object that are the same real customer."""

    system: str
    object: str
    record_id_a: str
    record_id_b: str
    account_id: str


@dataclass
class Firm:
    size: str
    seed: int
    today: dt.date
    ref: Reference
    people: list[Person]
    reps: list[SalesRep]
    accounts: list[AccountRec]
    contacts: list[ContactRec]
    opps: list[OppRec]
    projects: list[ProjectRec]
    assignments: list[Assignment]
    time: TimeTable
    biller: Biller
    postings: list[PostingRec]
    xrefs: XrefBook
    facts: list[Fact] = field(default_factory=list)
    clock_facts: list[Fact] = field(default_factory=list)
    views: Views = field(default_factory=dict)
    misalignments: list[Misalignment] = field(default_factory=list)
    duplicate_pairs: list[DuplicatePair] = field(default_factory=list)
    history_rows: int = 0
    #: "system:object" -> canonical id -> the view record, so updates find their rows.
    index: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: Where the activity clock stands (None: at the start of `today`), and the T&M value
    #: logged but not yet invoiced per (contract line, month), which the clock bills monthly.
    clock_now: dt.datetime | None = None
    tm_accrued: dict[tuple[int, int], int] | None = None
    #: Memoised per-record templates for the high-volume rows (time entries).
    cache: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def add_view(
        self, system: str, obj: str, canonical_id: str | None, record: dict[str, Any]
    ) -> dict[str, Any]:
        self.views.setdefault(system, {}).setdefault(obj, []).append(record)
        if canonical_id is not None:
            self.index.setdefault(f"{system}:{obj}", {})[canonical_id] = record
        return record

    def view_record(self, system: str, obj: str, canonical_id: str) -> dict[str, Any] | None:
        return self.index.get(f"{system}:{obj}", {}).get(canonical_id)

    @property
    def books(self) -> Books:
        return self.biller.books

    def opportunity(self, opp_id: str) -> OppRec:
        return next(o for o in self.opps if o.id == opp_id)

    def time_entry_xref(self, row: int) -> str:
        return time_entry_id(row)

    def wbs_for(self, project: ProjectRec, day: dt.date) -> str | None:
        for w in project.wbs:
            if w.start <= day <= w.end:
                return w.id
        return project.wbs[-1].id if project.wbs else None

    def time_rows(
        self, rows: list[int]
    ) -> Iterator[tuple[int, dt.date, int, bool, Assignment, str | None]]:
        """(row, day, quarter-hours, billable, assignment, wbs id) with per-day lookups cached."""
        days_cache: dict[int, dt.date] = {}
        wbs_cache: dict[tuple[int, int], str | None] = {}
        assignment = self.time.assignment[rows].tolist()
        days = self.time.day[rows].tolist()
        quarters = self.time.quarters[rows].tolist()
        billable = self.time.billable[rows].tolist()
        for row, a_idx, day_n, q, b in zip(rows, assignment, days, quarters, billable, strict=True):
            day = days_cache.get(day_n)
            if day is None:
                day = days_cache[day_n] = to_date(day_n)
            a = self.assignments[a_idx]
            key = (a.project, day_n)
            if key not in wbs_cache:
                wbs_cache[key] = self.wbs_for(self.projects[a.project], day)
            yield row, day, q, b, a, wbs_cache[key]

    def time_entry_facts(self, rows: list[int]) -> Iterator[Fact]:
        stamps: dict[dt.date, dt.datetime] = {}
        for row, day, q, b, a, wbs_id in self.time_rows(rows):
            payload = canonical.time_entry(self, row, day, q, b, a, wbs_id)
            moment = stamps.get(day) or stamps.setdefault(day, at(day, 18))
            yield Fact(
                "TimeEntry",
                moment,
                "kantata",
                f"kantata:time_entries:{time_entry_id(row)}",
                payload,
            )

    def _history_time_facts(self) -> Iterator[Fact]:
        order = np.argsort(self.time.day[: self.history_rows], kind="stable").tolist()
        yield from self.time_entry_facts(order)

    def iter_facts(self) -> Iterator[Fact]:
        """History in valid-time order, then whatever the activity clock has added."""
        yield from heapq.merge(self.facts, self._history_time_facts(), key=lambda f: f.valid_from)
        yield from self.clock_facts

    def truth_lines(self) -> Iterator[str]:
        for fact in self.iter_facts():
            yield fact.line()

    def write(self, directory: Path) -> None:
        """`truth.jsonl` plus `views/<system>/<object>.jsonl`; byte-identical for equal firms."""
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / "truth.jsonl").open("w", encoding="utf-8", newline="\n") as out:
            for line in self.truth_lines():
                out.write(line + "\n")
        for system, objects in sorted(self.views.items()):
            folder = directory / "views" / system
            folder.mkdir(parents=True, exist_ok=True)
            for name, records in sorted(objects.items()):
                with (folder / f"{name}.jsonl").open("w", encoding="utf-8", newline="\n") as out:
                    for record in records:
                        out.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
