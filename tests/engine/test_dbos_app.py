"""Stopping the engine while a page workflow is still applying: one line, not a traceback, and
the next start finishes the page (nothing lost, nothing twice)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS

from pssync.engine import dbos_app
from pssync.engine.page_runs import start_page
from pssync.engine.records import source_record
from pssync.engine.runtime import Runtime, set_runtime
from pssync.engine.stages import Stages, plain_write
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.translator import Translator
from pssync.store import GoldenStore, open_engine

from .conftest import BP, SAP_MAPPING


class Seen(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def runtime(url: str, write: Any = plain_write) -> Runtime:
    store = GoldenStore(open_engine(url))
    return Runtime(
        store=store,
        exceptions=ExceptionStore(store.engine),
        translators={"crm": Translator(SAP_MAPPING)},
        roles={"crm": "crm"},
        routes=[],
        stages=Stages(write=write),
    )


def test_a_page_still_applying_at_shutdown_is_one_line_and_the_next_start_finishes_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/pssync.db"
    entered, release = threading.Event(), threading.Event()

    def held_write(*args: Any) -> Any:
        entered.set()
        release.wait(30)
        return plain_write(*args)

    partner = {
        "BusinessPartner": "0000004242",
        "OrganizationBPName1": "Still Applying Ltd",
        "OrganizationBPName2": "Still Applying Holding Ltd",
    }
    record = source_record("0000004242", partner, "2026-01-05T10:00:00+00:00")
    seen = Seen()
    logging.getLogger("dbos").addHandler(seen)
    try:
        start(runtime(url, held_write), url, executor_id="stop-test", polling_interval=0.05)
        try:
            run = start_page("crm", BP, [record])
            assert entered.wait(30), "the page workflow never reached its write"
        finally:
            dbos_app.shutdown()  # what `pssync sync` does when a read stops it
            set_runtime(None)
        release.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not seen.records:
            time.sleep(0.1)
        assert [r.getMessage() for r in seen.records if r.levelno >= logging.WARNING] == [
            dbos_app.INTERRUPTED
        ]
        assert all(r.exc_info is None for r in seen.records)
        assert "Traceback" not in capfd.readouterr().err

        again = runtime(url)
        start(again, url, executor_id="stop-test", polling_interval=0.05)
        try:
            assert wait_idle(60)
            status = DBOS.get_workflow_status(run.workflow_id)
            assert status is not None and status.status == "SUCCESS"
            found = again.store.resolve_xref("crm", BP, "0000004242")
            assert found is not None
            assert [v.payload["name"] for v in again.store.history("Account", found[1])] == [
                "Still Applying Ltd"
            ]
        finally:
            dbos_app.shutdown()
            set_runtime(None)
    finally:
        logging.getLogger("dbos").removeHandler(seen)
