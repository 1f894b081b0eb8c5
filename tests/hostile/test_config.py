"""Hostile `pssync.yaml` files and variables, fuzzed with Hypothesis: `pssync config check`
answers with problems (exit 1) or success (exit 0), never a traceback."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pssync.cli.main import app

yaml_ish = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["connectors", "crm", "type", "role", "mapping", "webhooks", "x"]),
                inner,
                max_size=3,
            )
        ),
        max_leaves=12,
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(max_examples=80, deadline=None)
@given(body=yaml_ish, variable=st.none() | st.text(max_size=20))
def test_config_check_never_shows_a_traceback(body: bytes, variable: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as env:
        if variable is not None and "\x00" not in variable:
            env.setenv("PSSYNC__CONNECTORS__CRM__TYPE", variable)
        path = Path(folder) / "pssync.yaml"
        path.write_bytes(body)
        result = CliRunner().invoke(app, ["config", "check", str(path), "--json"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1)
        report = json.loads(result.output)
        assert report["ok"] is (result.exit_code == 0)
        for problem in report["problems"]:
            assert problem["key"] and problem["problem"] and problem["source"]
