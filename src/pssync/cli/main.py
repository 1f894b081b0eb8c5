"""The `pssync` command line (Typer + Rich). Commands appear here only once they work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pssync.cli import (
    config_check,
    demo,
    fidelity_cmds,
    forecast_cmds,
    serve_cmds,
    store_cmds,
    sync_cmds,
)
from pssync.cli.exceptions_cmds import exceptions_app
from pssync.cli.output import console, emit_json, fail
from pssync.cli.sandbox_cmds import sandbox_app
from pssync.model.registry import export_json_schemas

app = typer.Typer(
    name="pssync",
    help="Keep CRM, PSA and ERP aligned through one canonical model, and forecast from it.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
schema_app = typer.Typer(help="The canonical model's JSON Schemas.", no_args_is_help=True)
config_app = typer.Typer(help="Check the configuration.", no_args_is_help=True)

app.command("import")(store_cmds.import_command)
app.command("export")(store_cmds.export_command)
app.command("status")(store_cmds.status_command)
app.command("demo")(demo.demo_command)
app.command("forecast")(forecast_cmds.forecast_command)
app.command("backtest")(forecast_cmds.backtest_command)
app.command("kpis")(forecast_cmds.kpis_command)
app.command("sync")(sync_cmds.sync_command)
app.command("worker")(sync_cmds.worker_command)
app.command("reconcile")(sync_cmds.reconcile_command)
app.command("plan")(sync_cmds.plan_command)
app.command("trace")(sync_cmds.trace_command)
app.command("fidelity")(fidelity_cmds.fidelity_command)
app.command("serve")(serve_cmds.serve_command)
app.add_typer(serve_cmds.apikeys_app, name="apikeys")
app.add_typer(store_cmds.audit_app, name="audit")
app.add_typer(exceptions_app, name="exceptions")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(schema_app, name="schema")
app.add_typer(config_app, name="config")
config_app.command("check")(config_check.check_command)

STARTER = Path(__file__).parent.parent / "config" / "starter.yaml"


@app.command("init")
def init_command(
    path: Annotated[Path, typer.Option(help="Where to write the file.")] = Path("pssync.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter pssync.yaml."""
    if path.exists() and not force:
        raise fail(f"{path} already exists (use --force to overwrite)")
    path.write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    console.print(f"wrote {path}; edit it, then `pssync config check`")


@schema_app.command("export")
def schema_export(
    directory: Annotated[Path, typer.Argument(help="Directory to write the schemas to.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write a JSON Schema per canonical entity type, for integrators."""
    written = export_json_schemas(directory)
    if as_json:
        emit_json({"written": [str(p) for p in written]})
    else:
        console.print(f"wrote {len(written)} schemas to {directory}")
