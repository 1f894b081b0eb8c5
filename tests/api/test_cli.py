"""`pssync apikeys create/list/revoke`: the key is printed once and works against the API."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from pssync.api.keys import ApiKeyStore
from pssync.cli.serve_cmds import apikeys_app, serve_command
from pssync.store import open_engine


def test_create_list_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/g.db"
    app = typer.Typer()
    app.add_typer(apikeys_app, name="apikeys")
    app.command("serve")(serve_command)
    runner = CliRunner()
    created = runner.invoke(
        app, ["apikeys", "create", "ci", "--role", "operator", "--db", url, "--json"]
    )
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)["key"]
    keys = ApiKeyStore(open_engine(url))
    info = keys.verify(key)
    assert info is not None and info.role.label == "operator"
    listed = runner.invoke(app, ["apikeys", "list", "--db", url, "--json"])
    assert key not in listed.output and json.loads(listed.output)[0]["name"] == "ci"
    dup = runner.invoke(app, ["apikeys", "create", "ci", "--db", url])
    assert dup.exit_code == 1
    bad_role = runner.invoke(app, ["apikeys", "create", "x", "--role", "root", "--db", url])
    assert bad_role.exit_code == 1
    assert runner.invoke(app, ["apikeys", "revoke", "ci", "--db", url]).exit_code == 0
    assert keys.verify(key) is None
    assert runner.invoke(app, ["apikeys", "revoke", "nobody", "--db", url]).exit_code == 1
    assert "--port" in runner.invoke(app, ["serve", "--help"]).output
