"""`pssync sandbox up`: run every emulated system locally until Ctrl-C or SIGTERM.

With ``--json`` it prints exactly one line, once every system is serving and seeded, so scripts
and tests can read the URLs and credentials and start working; everything else goes to stderr.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pssync.sandbox.common.faults import FaultConfig
from pssync.sandbox.up import Sandbox, SandboxError

sandbox_app = typer.Typer(help="Local emulators of the real systems.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


class Size(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


@sandbox_app.callback()
def sandbox_callback() -> None:
    """Local emulators of the CRM, PSA, ERPs and ITSM that pssync syncs."""


def _table(sandbox: Sandbox) -> Table:
    table = Table(title="pssync sandbox")
    table.add_column("system")
    table.add_column("base URL")
    table.add_column("credentials")
    for name, info in sandbox.describe().items():
        creds = "\n".join(f"{k}: {v}" for k, v in info["credentials"].items())
        if "ca_file" in info:
            creds += f"\nca_file: {info['ca_file']}"
        table.add_row(name, info["base_url"], creds)
    return table


@sandbox_app.command("up")
def up_command(
    size: Annotated[Size, typer.Option(help="Size of the synthetic firm.")] = Size.small,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic firm.")] = 0,
    faults: Annotated[
        str | None, typer.Option(help="Fault injection, e.g. 'error_rate=0.1,latency_ms=50'.")
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Keep each system's state under DIR/<system>.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one line of JSON.")] = False,
    empty: Annotated[
        bool,
        typer.Option(
            "--empty", help="Start every system with no records, for loading your own data."
        ),
    ] = False,
) -> None:
    """Start all six systems seeded with one firm (or empty); stop them on Ctrl-C or SIGTERM."""
    try:
        config = FaultConfig.parse(faults) if faults else None
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] --faults: {exc}", highlight=False)
        raise typer.Exit(2) from None
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sandbox = Sandbox.start_all(size.value, seed, config, state_dir, empty=empty)
    except SandboxError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    try:
        if as_json:
            sys.stdout.write(json.dumps(sandbox.describe()) + "\n")
            sys.stdout.flush()
        else:
            console.print(_table(sandbox))
            err_console.print("serving; press Ctrl-C to stop")
        while not stop.wait(0.2):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
