"""The synthetic firm's truth and answer key, as files the check reads.

A sandbox firm is deterministic in (size, seed, today) and its activity clock in the days
played, so the truth of any sandbox run can be rebuilt without the sandbox: `firm_truth`
regenerates it, `write_truth` leaves `truth` and `planted` JSONL files next to a run's state
so that `pssync fidelity --against` can be run on it later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pssync.fidelity.truth import Planted, read_planted

TRUTH_FILE = "pssync-truth.jsonl"
PLANTED_FILE = "pssync-planted.jsonl"


@dataclass
class FirmTruth:
    lines: list[str]
    planted: list[Planted]
    today: dt.date  # where the firm's clock stands


def firm_truth(
    size: str, seed: int, start: dt.date, steps: int = 0, days_per_step: int = 1
) -> FirmTruth:
    """Regenerate a sandbox firm started at `start` whose clock played `steps` steps."""
    from pssync.sandbox.firm import ActivityClock, generate_firm

    firm = generate_firm(size, seed, start)
    if steps:
        clock = ActivityClock(firm)
        for _ in range(steps):
            clock.advance(days=days_per_step)
    return of_firm(firm, start + dt.timedelta(days=steps * days_per_step))


def of_firm(firm: Any, today: dt.date) -> FirmTruth:
    """The truth of a firm object in memory (a running sandbox's `firm`)."""
    from pssync.sandbox.firm.misalign import answer_key_lines

    return FirmTruth(list(firm.truth_lines()), read_planted(answer_key_lines(firm)), today)


def write_truth(truth: FirmTruth, directory: Path) -> tuple[Path, Path]:
    """`pssync-truth.jsonl` and `pssync-planted.jsonl` in `directory`."""
    import json

    lines_path, planted_path = directory / TRUTH_FILE, directory / PLANTED_FILE
    lines_path.write_text("".join(line + "\n" for line in truth.lines), encoding="utf-8")
    planted_path.write_text(
        "".join(json.dumps(p.__dict__, sort_keys=True) + "\n" for p in truth.planted),
        encoding="utf-8",
    )
    return lines_path, planted_path
