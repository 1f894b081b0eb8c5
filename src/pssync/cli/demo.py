"""`pssync demo`: the main job on embedded defaults, from empty directory to dashboard.

It starts the six sandbox systems seeded with the synthetic firm, syncs them through the engine
into `./pssync.db`, lets the firm's activity clock run a month in three steps (each followed by
a poll, so changes flow live: deals move, are won and handed off), forecasts from
`./pssync.duckdb`, prints the summary, writes `pssync-report.html`, and serves the dashboard
until Ctrl-C. It writes `pssync.yaml` so that `pssync forecast | kpis | exceptions list | trace
| serve` work on the same state afterwards. Every run starts from a clean state (see
`pssync.demo.run`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from pssync.cli.output import console, emit_json, err_console, progress

SIZES = ("small", "medium", "large")


def _serve_function() -> Callable[..., None] | None:
    """The `serve` command, if the dashboard is part of this build (imported lazily)."""
    try:
        from pssync.cli import serve_cmds
    except ImportError:
        return None
    found: Callable[..., None] | None = getattr(serve_cmds, "serve_command", None)
    return found


def demo_command(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Exit after the report instead of serving.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (implies --no-serve).")
    ] = False,
    size: Annotated[str, typer.Option(hidden=True)] = "small",
    clock_steps: Annotated[int, typer.Option(hidden=True, min=0)] = 3,
    # A month of the firm's activity in three steps: a small firm wins about one deal a month.
    days_per_step: Annotated[int, typer.Option(hidden=True, min=1)] = 10,
    max_pages: Annotated[int | None, typer.Option(hidden=True, min=1)] = None,
    deal_desk: Annotated[
        bool,
        typer.Option(
            "--deal-desk/--no-deal-desk",
            help="Play the deal desk: map the reps' free-text categories, replay the held deals.",
        ),
    ] = False,
) -> None:
    """Sandbox systems -> sync -> live changes -> forecast -> report -> dashboard."""
    from pssync.demo.report import write_report
    from pssync.demo.run import REPORT_FILE, DemoOptions, run_demo
    from pssync.demo.summary import build_summary, print_summary
    from pssync.sandbox.up import SandboxError

    if size not in SIZES:
        raise typer.BadParameter(f"choose one of {', '.join(SIZES)}", param_hint="--size")
    workdir = Path.cwd()
    options = DemoOptions(
        workdir,
        size=size,
        clock_steps=clock_steps,
        days_per_step=days_per_step,
        max_pages=max_pages,
        deal_desk=deal_desk,
    )

    def say(message: str) -> None:
        if not as_json:
            err_console.print(f"[bold]>[/bold] {message}", highlight=False)

    try:
        result = run_demo(options, progress(not as_json), say)
    except SandboxError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    summary = build_summary(result, result.store)
    report = write_report(summary, result, workdir / REPORT_FILE)
    if as_json:
        emit_json(summary | {"report": str(report)})
        return
    print_summary(summary, console)
    console.print(f"report: {report}")
    example = summary["forecast"]["example_opportunity"] or "ID"
    console.print(
        "next, in this directory: `pssync forecast`, `pssync kpis`, "
        f"`pssync exceptions list`, `pssync trace {example}`, `pssync serve`"
    )
    if no_serve:
        return
    serve = _serve_function()
    if serve is None:
        console.print("the dashboard is not available in this build; the report has it all")
        return
    console.print("serving the dashboard; Ctrl-C to stop")
    serve(host="127.0.0.1", port=8000, db=None, log_level="warning")
