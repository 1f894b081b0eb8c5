"""`Sandbox.advance`: the activity clock's changes reach the emulators' APIs, so polls see them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pssync.config.settings import ConnectorConfig
from pssync.demo.config import sandbox_config
from pssync.engine.setup import connector_factory
from pssync.sandbox.up import Sandbox, SandboxError

pytestmark = [pytest.mark.integration]


def ids(sandbox: Sandbox, tmp_path: Path, system: str, obj: str) -> set[str]:
    config = ConnectorConfig(**sandbox_config(sandbox, tmp_path)["connectors"][system])
    connector = connector_factory(config)()
    try:
        return {r.id for page in connector.snapshot(obj) for r in page.records}
    finally:
        connector.close()


def test_clock_changes_are_served_by_the_emulators(tmp_path: Path) -> None:
    with Sandbox.start_all(
        "small", 0, systems=["kantata", "filedrop"], state_dir=tmp_path, today=dt.date(2026, 6, 1)
    ) as sandbox:
        before = {obj: ids(sandbox, tmp_path, "kantata", obj) for obj in ("time_entries",)}
        invoices_before = ids(sandbox, tmp_path, "filedrop", "invoices")
        changes = sandbox.advance(10)
        logged = {c.record_id for c in changes if c.object == "time_entries"}
        assert logged, "ten working days log time"
        after = ids(sandbox, tmp_path, "kantata", "time_entries")
        assert logged <= after and not logged <= before["time_entries"]
        issued = [c for c in changes if c.system == "filedrop" and c.action == "created"]
        assert issued, "ten days issue file-drop invoices"
        invoices_after = ids(sandbox, tmp_path, "filedrop", "invoices")
        assert len(invoices_after) - len(invoices_before) == len(
            {c.record_id for c in issued if c.object == "invoices"}
        )


def test_advance_needs_a_firm() -> None:
    with pytest.raises(SandboxError, match="synthetic firm"):
        Sandbox({}).advance(1)
