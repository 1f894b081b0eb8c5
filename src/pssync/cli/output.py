"""Shared CLI plumbing: one console, JSON output, the store opened from options and config."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pssync.config import ConfigError, load_settings
from pssync.store import GoldenStore, open_engine

console = Console()
err_console = Console(stderr=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def resolve_db(db: str | None) -> str:
    """`--db` wins; otherwise the configuration (pssync.yaml / PSSYNC__DATABASE_URL)."""
    if db:
        return db
    try:
        return load_settings().database_url
    except ConfigError as exc:
        raise fail(str(exc)) from None


def open_store(db: str | None) -> GoldenStore:
    return GoldenStore(open_engine(resolve_db(db)))


def progress(enabled: bool = True) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
    )
