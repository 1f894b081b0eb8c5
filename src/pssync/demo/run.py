"""The demo's orchestration: sandbox up, initial sync, live clock, forecast, in one process.

Each run starts from a clean directory state (the golden store, the engine's DBOS database, the
analytics file and the report are removed first): the emulators are new every run, with fresh
IDs and stamps, so cursors and inbox decisions from a previous run would describe systems that
no longer exist. The state a run leaves behind stays for the commands run afterwards.

The firm's "today" is set `clock_steps x days_per_step` days before the real date, so that when
the clock has played, the synthetic world has reached the real today and `pssync forecast`
(as of today by default) sees exactly what the demo synced.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress, TaskID

from pssync.demo.config import ANALYTICS_FILE, CONFIG_FILE, DB_FILE, sandbox_config, write_config
from pssync.demo.deal_desk import firm_vocabulary, fix_free_text
from pssync.demo.outlook import Outlook, compute_outlook, exception_groups
from pssync.demo.sync import SyncTally, poll_all, targets
from pssync.engine.runtime import Runtime
from pssync.governance.exceptions import ExceptionStore
from pssync.sandbox.up import Sandbox
from pssync.store import GoldenStore
from pssync.store.jsonl import import_lines

REPORT_FILE = "pssync-report.html"
STATE_FILES = (
    DB_FILE,
    "pssync.dbos.sqlite",
    ANALYTICS_FILE,
    ANALYTICS_FILE + ".wal",
    REPORT_FILE,
)
# Reference data is configuration a firm loads once (regions and calendars, service lines,
# roles, legal entities, currencies and FX, tax codes), not something a vendor API serves.
# `Resource` is the HR master of people (region, so calendar; cost rate; department; start
# date): Kantata's users carry only name, e-mail and headline, so without it no consultant is
# valid and capacity cannot be planned. Its xrefs name the Kantata user, so the PSA's view
# merges over the HR record.
REFERENCE_TYPES = frozenset(
    {
        "Region",
        "ServiceLine",
        "Role",
        "LegalEntity",
        "Currency",
        "FxRate",
        "TaxCode",
        "Department",
        "ProjectTemplate",
        "Resource",
    }
)


@dataclass(frozen=True)
class DemoOptions:
    workdir: Path
    size: str = "small"
    seed: int = 0
    clock_steps: int = 3
    days_per_step: int = 1
    max_pages: int | None = None  # test-only cap per object on the initial sync
    deal_desk: bool = False  # map the reps' free-text categories and replay (demo.deal_desk)


@dataclass
class DemoResult:
    options: DemoOptions
    start_day: dt.date
    as_of: dt.date
    sandbox: dict[str, Any]
    initial: SyncTally
    live: list[dict[str, Any]]
    flows: dict[str, Any]
    exceptions: list[dict[str, Any]]
    outlook: Outlook
    store: GoldenStore
    timings: dict[str, float] = field(default_factory=dict)
    deal_desk: dict[str, Any] = field(default_factory=dict)


@dataclass
class FlowTally:
    """What the business flows did over the run: workflows started and their outcomes.

    `flows.runner.dispatch` must run after every capture (DBOS cannot start workflows from
    inside the ingest step); the demo waits for each batch so the next poll and the summary see
    the drafts, handoffs and exceptions they made.
    """

    started: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)

    def run(self, runtime: Runtime) -> None:
        from pssync.flows.runner import dispatch, wait

        if not runtime.flows_enabled:
            return
        for workflow_id, result in wait(dispatch(runtime)).items():
            kind = workflow_id.partition(":")[0]
            self.started[kind] = self.started.get(kind, 0) + 1
            status = str((result or {}).get("status", "done"))
            per = self.outcomes.setdefault(kind, {})
            per[status] = per.get(status, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {"started": self.started, "outcomes": self.outcomes}


def reset_state(workdir: Path) -> None:
    """Remove what a previous demo left (SQLite side files included)."""
    for name in STATE_FILES:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (workdir / (name + suffix)).unlink(missing_ok=True)


def load_reference(runtime: Runtime, firm: Any) -> int:
    lines = [
        line for line in firm.truth_lines() if json.loads(line)["entity_type"] in REFERENCE_TYPES
    ]
    report = import_lines(runtime.store, lines, system="reference")
    return int(report.created + report.updated)


class Bars:
    """One progress bar per system: objects done out of objects to sync, records so far."""

    def __init__(self, progress: Progress, plan: dict[str, list[str]]) -> None:
        self.progress = progress
        self.records: dict[str, int] = dict.fromkeys(plan, 0)
        self.tasks: dict[str, TaskID] = {
            system: progress.add_task(self._label(system), total=len(objects))
            for system, objects in plan.items()
        }

    def _label(self, system: str) -> str:
        return f"{system:<11} {self.records[system]:>6} records"

    def page(self, system: str, obj: str, n: int) -> None:
        self.records[system] += n
        self.progress.update(self.tasks[system], description=self._label(system))

    def done(self, system: str, obj: str) -> None:
        self.progress.advance(self.tasks[system])


def run_demo(
    options: DemoOptions, progress: Progress, say: Callable[[str], None] = lambda m: None
) -> DemoResult:
    """Run every step; the sandbox and the engine are stopped before returning."""
    from pssync.engine.dbos_app import shutdown
    from pssync.engine.worker import start, wait_idle
    from pssync.runtime import build_runtime

    timings: dict[str, float] = {}
    clock = time.monotonic()
    workdir = options.workdir.resolve()
    reset_state(workdir)
    today = dt.datetime.now(dt.UTC).date()
    start_day = today - dt.timedelta(days=options.clock_steps * options.days_per_step)
    live: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pssync-demo-") as state:
        say(f"starting the sandbox systems with the {options.size} firm (as of {start_day})")
        sandbox = Sandbox.start_all(
            options.size, options.seed, state_dir=Path(state), today=start_day
        )
        try:
            settings = write_config(sandbox_config(sandbox, workdir), workdir / CONFIG_FILE)
            timings["sandbox"] = time.monotonic() - clock
            runtime = build_runtime(settings, base=workdir)
            start(runtime, settings.database_url)
            flows = FlowTally()
            try:
                load_reference(runtime, sandbox.firm)
                say("initial sync through the engine")
                initial = SyncTally()
                with progress:
                    bars = Bars(progress, targets(runtime))
                    poll_all(
                        runtime,
                        initial,
                        max_pages=options.max_pages,
                        on_page=bars.page,
                        on_object=bars.done,
                    )
                wait_idle(60.0)
                flows.run(runtime)
                timings["initial_sync"] = time.monotonic() - clock
                for step in range(options.clock_steps):
                    changes = sandbox.advance(options.days_per_step)
                    tally = SyncTally()
                    poll_all(runtime, tally)
                    wait_idle(60.0)
                    flows.run(runtime)
                    day = start_day + dt.timedelta(days=(step + 1) * options.days_per_step)
                    live.append({"day": day, "changes": len(changes), "captured": tally.records()})
                    say(f"clock {day}: {len(changes)} changes made, {tally.records()} captured")
                deal_desk: dict[str, Any] = {}
                if options.deal_desk:
                    say("deal desk: the reps' free-text categories mapped, held deals replayed")
                    vocabulary = firm_vocabulary(sandbox.firm)
                    deal_desk = fix_free_text(runtime, workdir / CONFIG_FILE, vocabulary)
                    wait_idle(60.0)
                    flows.run(runtime)
                wait_idle(60.0)
                timings["live"] = time.monotonic() - clock
                groups = exception_groups(ExceptionStore(runtime.store.engine))
                flows_done = flows.as_dict()
            finally:
                shutdown()
            described = {name: info["base_url"] for name, info in sandbox.describe().items()}
        finally:
            sandbox.stop()
    say("forecast and KPIs from the analytics store")
    outlook = compute_outlook(runtime.store, Path(settings.analytics_path), today)
    timings["summary"] = time.monotonic() - clock
    return DemoResult(
        options,
        start_day,
        today,
        described,
        initial,
        live,
        flows_done,
        groups,
        outlook,
        runtime.store,
        timings,
        deal_desk,
    )
