"""Our own writes polled back while their delivery is still in flight are echoes (issue 14
defect 3): on PostgreSQL, `pssync worker` made 160 golden accounts out of 80, because a poll of
the ERP read the partners pssync had just created before the delivery had recorded them.

The delivery here is held after the ERP accepted the creates and before it returns (the
window a 250 ms ERP and a 3 s poll interval hit), and the ERP is polled inside that window.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pssync.connectors.base import UpsertResult
from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.runtime import Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.translator import Translator
from pssync.runtime import govern
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

from .conftest import BP, FAST, SAP_MAPPING, bp_row, edit

POSTGRES_URL = os.environ.get("PSSYNC_TEST_POSTGRES_URL")


class Held:
    """Holds every ERP upsert after the ERP accepted it, until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


def held_factory(emulator: SapS4Emulator, held: Held) -> Any:
    creds = emulator.credentials()

    class HeldConnector(SapS4Connector):
        def upsert(
            self, obj: str, external_id_field: str, records: list[dict[str, Any]]
        ) -> list[UpsertResult]:
            results = super().upsert(obj, external_id_field, records)
            held.entered.set()
            assert held.release.wait(60), "the test never released the delivery"
            return results

    def build() -> SapS4Connector:
        settings = SapS4Settings(
            base_url=emulator.base_url,
            username=creds["username"],
            password=creds["password"],
            sap_client=creds["sap_client"],
            page_size=50,
            timeout=5.0,
        )
        return HeldConnector(settings)

    return build


def plain_factory(emulator: SapS4Emulator) -> Any:
    creds = emulator.credentials()

    def build() -> SapS4Connector:
        return SapS4Connector(
            SapS4Settings(
                base_url=emulator.base_url,
                username=creds["username"],
                password=creds["password"],
                sap_client=creds["sap_client"],
                page_size=50,
                timeout=5.0,
            )
        )

    return build


@dataclass
class RaceEnv:
    runtime: Runtime
    crm: SapS4Emulator
    held: Held


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def race(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RaceEnv]:
    """A worker's engine on a fresh database of each backend (PostgreSQL: a database of its
    own, since DBOS keeps its system schema there)."""
    admin, name = None, ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/pssync.db"
    else:
        if not POSTGRES_URL:
            pytest.skip("PSSYNC_TEST_POSTGRES_URL is not set")
        name = f"pssync_race_{uuid.uuid4().hex[:10]}"
        base = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(base).set(database=name).render_as_string(False)
    held = Held()
    store = GoldenStore(open_engine(url))
    try:
        with (
            SapS4Emulator(state_dir=tmp_path / "crm") as crm,
            SapS4Emulator(state_dir=tmp_path / "erp") as erp,
        ):
            runtime = govern(
                Runtime(
                    store=store,
                    exceptions=ExceptionStore(store.engine),
                    connectors={"crm": plain_factory(crm), "erp": held_factory(erp, held)},
                    translators={"crm": Translator(SAP_MAPPING), "erp": Translator(SAP_MAPPING)},
                    roles={"crm": "crm", "erp": "erp"},
                    delivery=FAST,
                )
            )
            start(runtime, url, polling_interval=0.05, peer_recovery=False)
            try:
                yield RaceEnv(runtime, crm, held)
            finally:
                held.release.set()
                wait_idle(30)
                dbos_app.shutdown()
                set_runtime(None)
    finally:
        store.engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_partners_polled_back_while_their_delivery_is_in_flight_are_echoes(
    race: RaceEnv,
) -> None:
    runtime = race.runtime
    edit(race.crm, [bp_row(f"Race Partner {n}") for n in range(5)])
    captured = Poller(runtime, "crm", BP).run()
    assert captured.counts == {"applied": 5}
    assert race.held.entered.wait(30), "the delivery never reached the ERP"

    # The ERP holds the five new partners; the delivery has not returned yet.
    polled = Poller(runtime, "erp", BP).run()
    race.held.release.set()
    assert wait_idle(60)

    assert polled.counts == {"echo": 5}, polled.counts
    accounts = list(runtime.store.iter_records("Account"))
    assert len(accounts) == 5, [a.payload for a in accounts]
    for account in accounts:  # each golden account knows both its CRM and its ERP partner
        systems = {key.partition(":")[0] for key in account.payload["xrefs"]}
        assert systems == {"crm"}
        linked = {k.partition(":")[0] for k in runtime.store.xrefs("Account", account.record_id)}
        assert linked >= {"crm", "erp"}
    again = Poller(runtime, "erp", BP).run(full=True)  # read again after the delivery finished
    assert again.counts.get("applied", 0) == 0, again.counts
    assert len(list(runtime.store.iter_records("Account"))) == 5
