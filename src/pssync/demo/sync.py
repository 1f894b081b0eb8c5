"""Initial sync and live polls of the sandbox through the engine, with progress callbacks.

This is what `pssync sync` does (one `engine.cycle.run_cycle`), with the poller's two options
the demo needs: a callback per applied batch (for the progress bars) and an optional cap on
pages per object. The cap exists only for fast test runs: the cursor is saved after every
batch, so what the cap leaves unread is picked up by the next poll, as after an interrupted
sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pssync.engine.capture import OnPage
from pssync.engine.cycle import CycleOptions, CycleReport, plan, run_cycle
from pssync.engine.runtime import Runtime

__all__ = ["OnPage", "SyncTally", "poll_all", "targets"]


@dataclass
class SyncTally:
    """Records the engine saw per system and object, by outcome (applied, rejected, ...)."""

    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    pages: int = 0

    def add(self, system: str, obj: str, counts: dict[str, int], pages: int) -> None:
        per = self.counts.setdefault(system, {}).setdefault(obj, {})
        for status, n in counts.items():
            per[status] = per.get(status, 0) + n
        self.pages += pages

    def records(self, system: str | None = None) -> int:
        return sum(
            n
            for name, objects in self.counts.items()
            if system is None or name == system
            for by_status in objects.values()
            for n in by_status.values()
        )

    def as_dict(self) -> dict[str, Any]:
        return {"pages": self.pages, "records": self.records(), "by_system": self.counts}


def targets(runtime: Runtime) -> dict[str, list[str]]:
    """Capturable objects per system, in the engine's order."""
    return plan(runtime)


def poll_all(
    runtime: Runtime,
    tally: SyncTally,
    *,
    max_pages: int | None = None,
    on_page: OnPage | None = None,
    on_object: Callable[[str, str], None] | None = None,
) -> CycleReport:
    """One worker cycle (`engine.cycle.run_cycle`: customer masters first, then the systems
    side by side, then re-pointing and the flows' dispatch), adding what it read to `tally`."""
    options = CycleOptions(max_pages=max_pages, on_page=on_page, on_object=on_object)
    report = run_cycle(runtime, options)
    for captured in report.captures:
        tally.add(captured.system, captured.object, captured.counts, captured.pages)
    return report
