"""`pssync serve` (API, dashboard and webhook ingress on uvicorn) and `pssync apikeys ...`.

The lead wires these into cli/main.py::

    app.command("serve")(serve_cmds.serve_command)
    app.add_typer(serve_cmds.apikeys_app, name="apikeys")

A key is printed once, at creation; only its salted digest is stored, so a lost key is
revoked and replaced, never recovered.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pssync.api.keys import ApiKeyStore, Role
from pssync.cli.output import console, emit_json, fail, open_store, settings
from pssync.cli.store_cmds import DbOption, JsonOption

apikeys_app = typer.Typer(
    help="Manage API keys for the REST API and dashboard.", no_args_is_help=True
)


def _keys(db: str | None) -> ApiKeyStore:
    return ApiKeyStore(open_store(db).engine)


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    db: DbOption = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    config_path: Annotated[
        Path | None, typer.Option("--config", help="pssync.yaml to use (default ./pssync.yaml).")
    ] = None,
) -> None:
    """Serve the REST API (/api/v1, /docs), the dashboard (/ui) and webhook ingress
    (/webhooks/...) with JSON logs. Webhooks are recorded durably at once; a running
    `pssync worker` applies them."""
    import uvicorn  # imported here so other commands do not pay for the server stack

    from pssync.api import create_app
    from pssync.api.logs import configure_json_logging
    from pssync.config import ConfigError, load_settings
    from pssync.engine.runtime import set_runtime
    from pssync.runtime import build_runtime

    try:
        config = load_settings(config_path) if config_path else settings()
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if db:
        config = config.model_copy(update={"database_url": db})
    configure_json_logging(getattr(logging, log_level.upper(), logging.INFO))
    runtime = build_runtime(config, base=(config_path or Path("pssync.yaml")).parent)
    set_runtime(runtime)  # the ingress records pushed events in this runtime's store
    app = create_app(config, ingress=runtime)
    console.print(
        f"pssync API on http://{host}:{port}/docs, dashboard on http://{host}:{port}/ui, "
        f"webhooks on http://{host}:{port}/webhooks/"
    )
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        app.state.ctx.close()
        set_runtime(None)


@apikeys_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="Who or what uses the key (shown in the audit log).")],
    role: Annotated[str, typer.Option(help="viewer, operator or admin.")] = "viewer",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it once."""
    try:
        info, key = _keys(db).create(name, Role.parse(role))
    except ValueError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json({"name": info.name, "role": info.role.label, "key_id": info.key_id, "key": key})
        return
    console.print(f"created {info.role.label} key for {info.name}; it is shown only now:")
    console.print(key, markup=False, highlight=False, soft_wrap=True)


@apikeys_app.command("list")
def list_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Keys with their role and state (never the keys themselves)."""
    keys = _keys(db).list()
    if as_json:
        emit_json(
            [
                {
                    "name": k.name,
                    "role": k.role.label,
                    "key_id": k.key_id,
                    "created_at": k.created_at.isoformat(),
                    "revoked": k.revoked_at is not None,
                }
                for k in keys
            ]
        )
        return
    table = Table(title="API keys")
    for column in ("name", "role", "key id", "created", "state"):
        table.add_column(column)
    for k in keys:
        state = "revoked" if k.revoked_at else "active"
        table.add_row(k.name, k.role.label, k.key_id, k.created_at.isoformat(), state)
    console.print(table)


@apikeys_app.command("revoke")
def revoke_command(
    name: Annotated[str, typer.Argument(help="Name of the key to revoke.")], db: DbOption = None
) -> None:
    """Revoke a key at once (its dashboard sessions end on their next request)."""
    try:
        _keys(db).revoke(name)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    console.print(f"revoked the key of {name}")
