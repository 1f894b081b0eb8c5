"""One firm set up as a user sets it up: `pssync sandbox up`, a pssync.yaml, the reference data.

The sandbox runs in its own process (`pssync sandbox up --json`), so what the engine does to the
systems is read back over HTTP, as any user's script would. The pssync.yaml is the demo's
(`pssync.demo.config.sandbox_config`): every connector with its shipped mapping and the business
flows on, so a sync creates Kantata workspaces and stories and hands won deals to the ERPs. The
firm's reference data (regions, service lines, roles, legal entities, FX, tax codes, people) is
loaded with `pssync import`, the lines the demo loads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

ISSUE_FAULTS = "error_rate=0.2,timeout_rate=0.03,timeout_seconds=3,drop_rate=0.03"
NO_FAULTS = {"error_rate": 0.0, "timeout_rate": 0.0, "drop_rate": 0.0}


def pssync_command(*args: str) -> list[str]:
    """The installed `pssync` command next to this interpreter (the venv's), else on PATH."""
    script = Path(sys.executable).with_name("pssync")
    found = str(script) if script.exists() else shutil.which("pssync")
    if not found:
        raise RuntimeError("the pssync command is not installed (pip install -e .)")
    return [found, *args]


@dataclass
class Systems:
    """A running `pssync sandbox up`: its process and what `--json` printed."""

    process: subprocess.Popen[bytes]
    described: dict[str, dict[str, Any]]

    def faults(self, values: dict[str, Any]) -> None:
        """Set the fault mix on every emulator that serves HTTP (`PUT /__admin/faults`)."""
        for info in self.described.values():
            if not info.get("base_url", "").startswith("http"):
                continue
            verify: Any = info.get("ca_file") or True
            response = httpx.put(
                f"{info['base_url']}/__admin/faults", json=values, timeout=10, verify=verify
            )
            response.raise_for_status()


@contextmanager
def sandbox(state_dir: Path, size: str, seed: int, faults: str | None) -> Iterator[Systems]:
    """`pssync sandbox up --size --seed [--faults] --json --state-dir`, stopped with SIGTERM."""
    args = ["sandbox", "up", "--size", size, "--seed", str(seed), "--json"]
    args += ["--state-dir", str(state_dir)]
    if faults:
        args += ["--faults", faults]
    log = (state_dir.parent / "sandbox.log").open("ab")
    process = subprocess.Popen(
        pssync_command(*args), stdout=subprocess.PIPE, stderr=log, start_new_session=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=30)
            raise RuntimeError(f"pssync sandbox up exited {process.returncode}; see {log.name}")
        yield Systems(process, json.loads(line))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def write_config(
    systems: Systems, workdir: Path, database_url: str, page_processes: int | None
) -> Path:
    """The demo's pssync.yaml for these systems, on `database_url`, with `page_processes`
    (None: left out, so pssync's default, one per core)."""
    from pssync.demo.config import sandbox_config
    from pssync.sandbox.firm.generate import DEFAULT_TODAY

    class Described:
        def describe(self) -> dict[str, dict[str, Any]]:
            return systems.described

    config = sandbox_config(Described(), workdir)  # type: ignore[arg-type]
    # The firm's "today" is its generator's (`pssync sandbox up` has no date option) while the
    # handoff's look-back counts from the real today: widen it by the gap, so the deals won in
    # the firm's last 30 days are handed to the ERPs, as the demo (which moves the firm's
    # today instead) does.
    handoff = config["flows"]["closed_won_handoff"]
    gap = (dt.datetime.now(dt.UTC).date() - DEFAULT_TODAY).days
    handoff["lookback_days"] = int(handoff["lookback_days"]) + max(gap, 0)
    config["database_url"] = database_url
    if page_processes is not None:
        config["page_processes"] = page_processes
    path = workdir / "pssync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def reference_file(size: str, seed: int, path: Path) -> Path:
    """The firm's reference lines as canonical JSONL (what `pssync demo` loads before syncing).

    The firm is deterministic in (size, seed) and `pssync sandbox up` generates the same one."""
    from pssync.demo.run import REFERENCE_TYPES
    from pssync.sandbox.firm import generate_firm

    firm = generate_firm(size, seed)
    lines = [
        line for line in firm.truth_lines() if json.loads(line)["entity_type"] in REFERENCE_TYPES
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_reference(config: Path, database_url: str, reference: Path) -> dict[str, Any]:
    args = ["import", str(reference), "--db", database_url, "--system", "reference", "--json"]
    done = subprocess.run(
        pssync_command(*args), capture_output=True, text=True, check=False, cwd=config.parent
    )
    if done.returncode != 0:
        raise RuntimeError(f"pssync import failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server for the golden store and DBOS; dropped afterwards."""
    name = f"pssync_chaos_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_psycopg(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(_psycopg(server_url)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}
