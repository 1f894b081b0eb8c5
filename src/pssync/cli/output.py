"""Shared CLI plumbing: one console, JSON output, the store opened from options and config."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pssync.config import ConfigError, Settings, load_settings
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.notify import exception_store
from pssync.store import GoldenStore, open_engine

console = Console()
err_console = Console(stderr=True)


TABLE_WIDTH = 100  # columns a table fills when the output is not a terminal (Rich assumes 80)


def table_console() -> Console:
    """Where tables go: the console in a terminal (its own width), else a console of
    TABLE_WIDTH columns, so piped and captured tables are not squeezed into 80."""
    return console if console.is_terminal else Console(width=TABLE_WIDTH, highlight=False)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def settings() -> Settings:
    """The configuration of the current directory (pssync.yaml + environment), or exit."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise fail(str(exc)) from None


def open_store(db: str | None) -> GoldenStore:
    """The golden store: `--db` wins, otherwise pssync.yaml / PSSYNC__DATABASE_URL."""
    return GoldenStore(open_engine(db or settings().database_url))


def open_exceptions(store: GoldenStore) -> ExceptionStore:
    """Exceptions with the configured routing and notifications."""
    config = settings()
    return exception_store(store.engine, config.exceptions, config.notify)


def progress(enabled: bool = True) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
    )
