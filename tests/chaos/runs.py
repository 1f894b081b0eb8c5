"""Run a firm through pssync the way a user does, cleanly or with faults and kill -9.

SQLite: `pssync sync` started, SIGKILLed at each seeded moment and started again; PostgreSQL:
two `pssync worker` processes (own `PSSYNC_EXECUTOR_ID` each) of which one, chosen by the seed,
is SIGKILLed at each moment and started again. Then every run is taken to the same fixed point:
`pssync sync` rounds until one applies nothing new, so the clean run and the chaos run are
compared at rest. A chaos run first needs a round that completes with the faults still on (the
engine recovers from the kills under faults); only then are the faults stopped for the rounds
to rest, which under 20% faults failed one time in two and took minutes each.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .firm import (
    ISSUE_FAULTS,
    NO_FAULTS,
    child_env,
    import_reference,
    pssync_command,
    reference_file,
    sandbox,
    write_config,
)
from .oracle import EndState, read_end_state

MAX_ROUNDS = 8
ROUND_TIMEOUT = {"small": 900.0, "medium": 3600.0, "large": 10800.0}


@dataclass(frozen=True)
class Scenario:
    size: str = "small"
    seed: int = 7
    database: str = "sqlite"  # "sqlite" or a PostgreSQL database URL
    page_processes: int | None = None  # None: pssync's default (one per core)
    faults: str | None = ISSUE_FAULTS
    kills: int = 5
    kill_window: tuple[float, float] = (4.0, 30.0)  # seconds after each (re)start

    def moments(self) -> list[float]:
        """When each kill is due, in seconds after the process (re)started: seeded. Three times
        as many as kills: a `pssync sync` that ends before its moment (little left to do after
        a few kills) is not a kill, and the next moment is drawn."""
        rng = random.Random(f"chaos:{self.seed}:{self.size}")
        return [round(rng.uniform(*self.kill_window), 2) for _ in range(3 * self.kills)]

    def victims(self) -> list[int]:
        """Which of the two PostgreSQL workers each kill hits: seeded."""
        rng = random.Random(f"victims:{self.seed}")
        return [rng.randrange(2) for _ in range(self.kills)]


# The chaos runs by name. The default test run makes the first two (pssync's default settings
# on SQLite, and two PostgreSQL workers); `PSSYNC_CHAOS_ALL=1 pytest tests/chaos` and
# `bench/bench_chaos.py --variants` make the others too.
VARIANTS = {
    "sqlite": Scenario(),
    "postgres-two-workers": Scenario(database="postgres"),
    "sqlite-threads": Scenario(page_processes=0),
    "sqlite-page-processes": Scenario(page_processes=2),
}
DEFAULT_VARIANTS = ("sqlite", "postgres-two-workers")


@dataclass
class Outcome:
    end: EndState
    kills: list[dict[str, Any]] = field(default_factory=list)  # what each kill hit, and when
    rounds: list[dict[str, Any]] = field(default_factory=list)  # the settling syncs
    completed_under_faults: bool = False  # a settling round under the faults exited 0
    seconds: float = 0.0
    workdir: Path = Path()


def _wait(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Whether the process ended within `seconds`."""
    try:
        process.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def _kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9 the process, then make sure nothing it forked (page processes) lingers."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)  # the test's own clean-up; reported by the log


def _spawn(args: list[str], log: Path, cwd: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        out.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(args)} {env}\n".encode())
        out.flush()
        return subprocess.Popen(
            pssync_command(*args),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=child_env(**env),
            start_new_session=True,
        )


def settle(
    config: Path, log: Path, timeout: float, *, until_complete: bool = False
) -> list[dict[str, Any]]:
    """`pssync sync --json` until a round applies nothing new (or, `until_complete`, until a
    round completes: exit 0); each round's exit and counts."""
    rounds: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        args = ["sync", "--config", str(config), "--json"]
        began = time.monotonic()
        done = subprocess.run(
            pssync_command(*args),
            capture_output=True,
            text=True,
            cwd=config.parent,
            timeout=timeout,
            check=False,
        )
        with log.open("a") as out:
            took = time.monotonic() - began
            out.write(
                f"\n=== settle round {len(rounds) + 1}: exit {done.returncode} "
                f"({took:.0f} s, ended {time.strftime('%H:%M:%S')})\n"
            )
            out.write(done.stdout[-20000:] + done.stderr[-20000:])
        applied = -1
        try:
            captures = json.loads(done.stdout)["captures"]
            applied = sum(int(c.get("applied", 0)) for c in captures)
        except (json.JSONDecodeError, KeyError, TypeError):
            pass
        rounds.append({"exit": done.returncode, "applied": applied})
        if done.returncode == 0 and (applied == 0 or until_complete):
            break
    return rounds


def _kill_syncs(scenario: Scenario, config: Path, log: Path) -> list[dict[str, Any]]:
    kills: list[dict[str, Any]] = []
    for moment in scenario.moments():
        if sum(k["landed"] for k in kills) == scenario.kills:
            break
        process = _spawn(["sync", "--config", str(config)], log, config.parent)
        try:
            if _wait(process, moment):
                kills.append({"at": moment, "landed": False, "exit": process.returncode})
                continue
        finally:
            if process.poll() is None:  # the kill below, or an interrupted test run
                _kill(process)
        kills.append({"at": moment, "landed": True})
    return kills


def _active_workflows(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            sql = "SELECT count(*) FROM dbos.workflow_status WHERE status IN ('PENDING','ENQUEUED')"
            return int(conn.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def _kill_workers(scenario: Scenario, config: Path, log: Path) -> list[dict[str, Any]]:
    """Two workers; at each moment one is killed and started again with its executor ID."""
    args = ["worker", "--interval", "2", "--config", str(config)]
    names = ["chaos-worker-a", "chaos-worker-b"]
    workers = [_spawn(args, log, config.parent, PSSYNC_EXECUTOR_ID=n) for n in names]
    kills = []
    try:
        for moment, victim in zip(scenario.moments(), scenario.victims(), strict=False):
            time.sleep(moment)
            alive = workers[victim].poll() is None
            if alive:
                _kill(workers[victim])
            kills.append({"at": moment, "worker": names[victim], "landed": alive})
            workers[victim] = _spawn(args, log, config.parent, PSSYNC_EXECUTOR_ID=names[victim])
        # Let the survivors drain what the killed ones left: no active workflow twice in a row.
        deadline, quiet = time.monotonic() + ROUND_TIMEOUT[scenario.size], 0
        while time.monotonic() < deadline and quiet < 2:
            time.sleep(2)
            quiet = quiet + 1 if _active_workflows(scenario.database) == 0 else 0
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                if not _wait(process, 30):
                    _kill(process)
    return kills


def run(scenario: Scenario, workdir: Path, chaos: bool) -> Outcome:
    """One firm from scratch: sandbox, config, reference, then the sync (with chaos or not)."""
    started = time.monotonic()
    state = workdir / "systems"
    state.mkdir(parents=True)
    log = workdir / "pssync.log"
    database = (
        f"sqlite:///{workdir / 'pssync.db'}" if scenario.database == "sqlite" else scenario.database
    )
    with sandbox(
        state, scenario.size, scenario.seed, scenario.faults if chaos else None
    ) as systems:
        config = write_config(systems, workdir, database, scenario.page_processes)
        import_reference(
            config,
            database,
            reference_file(scenario.size, scenario.seed, workdir / "reference.jsonl"),
        )
        kills: list[dict[str, Any]] = []
        if chaos and scenario.database == "sqlite":
            kills = _kill_syncs(scenario, config, log)
        elif chaos:
            kills = _kill_workers(scenario, config, log)
        rounds, completed = [], False
        if chaos:
            rounds = settle(config, log, ROUND_TIMEOUT[scenario.size], until_complete=True)
            completed = rounds[-1]["exit"] == 0
            systems.faults(NO_FAULTS)
        rounds += settle(config, log, ROUND_TIMEOUT[scenario.size])
        end = read_end_state(config)
    seconds = round(time.monotonic() - started, 1)
    return Outcome(end, kills, rounds, completed, seconds, workdir)
