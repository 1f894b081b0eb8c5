"""`pssync serve` (API + dashboard on uvicorn) and `pssync apikeys ...` (create, list, revoke).

The lead wires these into cli/main.py::

    app.command("serve")(serve_cmds.serve_command)
    app.add_typer(serve_cmds.apikeys_app, name="apikeys")

A key is printed once, at creation; only its salted digest is stored, so a lost key is
revoked and replaced, never recovered.
"""

from __future__ import annotations

import logging
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
) -> None:
    """Serve the REST API (/api/v1, /docs) and the dashboard (/ui) with JSON logs."""
    import uvicorn  # imported here so other commands do not pay for the server stack

    from pssync.api import create_app
    from pssync.api.logs import configure_json_logging

    config = settings()
    if db:
        config = config.model_copy(update={"database_url": db})
    configure_json_logging(getattr(logging, log_level.upper(), logging.INFO))
    app = create_app(config)
    console.print(f"pssync API on http://{host}:{port}/docs, dashboard on http://{host}:{port}/ui")
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        app.state.ctx.close()


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
