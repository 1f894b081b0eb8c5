"""The `pssync` command line (Typer + Rich). Commands appear here only once they work."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pssync.cli import (
    config_check,
    demo,
    fidelity_cmds,
    forecast_cmds,
    kpis_cmd,
    onboard_cmds,
    serve_cmds,
    store_cmds,
    sync_cmds,
)
from pssync.cli.exceptions_cmds import exceptions_app
from pssync.cli.output import console, emit_json
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
app.command("check")(onboard_cmds.check_command)
app.command("demo")(demo.demo_command)
app.command("forecast")(forecast_cmds.forecast_command)
app.command("backtest")(forecast_cmds.backtest_command)
app.command("kpis")(kpis_cmd.kpis_command)
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

SystemChoice = Annotated[
    str | None, typer.Option(help="The system's connector type, or `none` (prompted if omitted).")
]
UrlOption = Annotated[str | None, typer.Option(help="The system's base URL.")]


@app.command("init")
def init_command(
    path: Annotated[Path, typer.Option(help="Where to write the file.")] = Path("pssync.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    crm: SystemChoice = None,
    psa: SystemChoice = None,
    erp: SystemChoice = None,
    currency: Annotated[
        str | None, typer.Option(help="Reporting currency (ISO 4217), e.g. USD.")
    ] = None,
    crm_url: UrlOption = None,
    psa_url: UrlOption = None,
    erp_url: UrlOption = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE for any other key (connectors.crm.client_id=abc)."),
    ] = None,
    interactive: Annotated[
        bool | None,
        typer.Option(
            "--interactive/--non-interactive",
            help="Ask for what flags leave out (default: when run in a terminal).",
        ),
    ] = None,
) -> None:
    """Write a pssync.yaml that syncs the first time: asks which CRM, PSA and ERP the firm
    runs (or takes --crm/--psa/--erp, `none` for a system it lacks) and the reporting currency.
    Mappings, currency defaults and flows follow from the answers."""
    from pssync.cli.init_cmd import write_init

    write_init(
        path,
        force=force,
        systems={"crm": crm, "psa": psa, "erp": erp},
        urls={"crm": crm_url, "psa": psa_url, "erp": erp_url},
        currency=currency,
        sets=set_ or [],
        ask=sys.stdin.isatty() if interactive is None else interactive,
    )


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
