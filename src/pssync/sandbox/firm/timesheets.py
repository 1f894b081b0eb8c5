"""Time entries, generated column-wise because they are most of the firm's rows.

One entry per person, project and working day of each hard booking, with realistic noise:
absences, days a little over or under plan, some non-billable time, and the hidden effort
overrun of fixed-fee projects. Rows stay in numpy columns until a view or the JSONL needs them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from pssync.sandbox.firm.reference import Reference
from pssync.sandbox.firm.world import Assignment, Person, ProjectRec

EPOCH = np.datetime64("1970-01-01", "D")
I64 = npt.NDArray[np.int64]


@dataclass
class TimeTable:
    """Columns of time entries; row i has canonical ID ``te-{i+1:07d}``."""

    assignment: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    day: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # days since 1970
    quarters: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    billable: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def __len__(self) -> int:
        return int(self.day.size)

    def extend(
        self, assignment: I64, day: I64, quarters: I64, billable: npt.NDArray[np.bool_]
    ) -> None:
        self.assignment = np.concatenate([self.assignment, assignment])
        self.day = np.concatenate([self.day, day])
        self.quarters = np.concatenate([self.quarters, quarters])
        self.billable = np.concatenate([self.billable, billable])


def to_date(days: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(days))


def entry_rows(
    ref: Reference,
    a: Assignment,
    person: Person,
    project: ProjectRec,
    start: dt.date,
    end: dt.date,
    seed: int,
) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
    """(days, quarter-hours, billable) an assignment logs between start and end inclusive."""
    days = ref.calendars[person.region].working_days(max(start, a.start), min(end, a.end))
    if days.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.bool_)
    offsets = (days - EPOCH).astype(np.int64)
    rng = np.random.default_rng([seed, a.idx, int(offsets[0])])
    base = a.daily_halves * 2 * (100 + project.overrun_pct) / 100
    noise = rng.choice(np.array([-2, -1, 0, 0, 0, 0, 1, 2]), size=days.size)
    quarters = np.clip(np.rint(base).astype(np.int64) + noise, 1, 48)
    present = rng.random(days.size) >= 0.04
    billable = rng.random(days.size) >= 0.03
    return offsets[present], quarters[present], billable[present]


def log_history(
    ref: Reference,
    assignments: list[Assignment],
    people: list[Person],
    projects: list[ProjectRec],
    seed: int,
) -> TimeTable:
    """Every entry of hard bookings for working days before today."""
    until = ref.today - dt.timedelta(days=1)
    parts: list[tuple[I64, I64, I64, npt.NDArray[np.bool_]]] = []
    for a in assignments:
        if not a.hard or a.start > until:
            continue
        days, quarters, billable = entry_rows(
            ref, a, people[a.person], projects[a.project], a.start, until, seed
        )
        parts.append((np.full(days.size, a.idx, dtype=np.int64), days, quarters, billable))
    table = TimeTable()
    if parts:
        table.extend(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]),
        )
    return table
