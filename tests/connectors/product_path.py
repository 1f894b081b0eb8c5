"""One ERP's books through the product path: emulator -> connector -> engine (DBOS, governance,
the default mapping) -> golden store, each object captured once; shared by the NetSuite, SAP and
file-drop tests that compare what the golden store holds with the generator's truth."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pssync.config.settings import default_system_of_record
from pssync.connectors.base import Connector
from pssync.engine import dbos_app
from pssync.engine.capture import Poller
from pssync.engine.runtime import Runtime, set_runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.ownership import OwnershipPolicy
from pssync.mapping import Translator, load_spec
from pssync.runtime.builder import govern
from pssync.store import GoldenStore, open_engine


@dataclass
class Synced:
    system: str
    store: GoldenStore
    firm: Any
    truth: dict[tuple[str, str], dict[str, Any]]
    counts: dict[str, dict[str, int]]

    def source_id(self, obj: str, canonical_id: str) -> str | None:
        """The ERP's ID of the truth's `canonical_id` as `obj`."""
        found: str | None = self.firm.xrefs.get(canonical_id, f"{self.system}:{obj}")
        return found

    def golden_of(self, obj: str, source_id: str | None) -> tuple[str, dict[str, Any]]:
        """(golden ID, payload) of the record the ERP holds as `obj` `source_id`."""
        assert source_id is not None, obj
        found = self.store.resolve_xref(self.system, obj, source_id)
        assert found is not None, f"{self.system} {obj} {source_id} is not in the golden store"
        version = self.store.get(*found)
        assert version is not None
        return found[1], version.payload

    def golden(self, obj: str, canonical_id: str) -> tuple[str, dict[str, Any]]:
        """(golden ID, payload) of what the ERP holds as `obj` for the truth's `canonical_id`."""
        return self.golden_of(obj, self.source_id(obj, canonical_id))

    def golden_id(self, obj: str, canonical_id: str) -> str:
        return self.golden(obj, canonical_id)[0]


def money(value: dict[str, str]) -> tuple[Decimal, str]:
    return Decimal(value["amount"]), value["currency"]


@contextmanager
def synced_erp(
    base: Path,
    firm: Any,
    system: str,
    connector: Callable[[], Connector],
    mapping: Path,
    objects: tuple[str, ...],
    synced: type[Synced] = Synced,
) -> Iterator[Synced]:
    """Capture `objects` of the ERP `system` (its emulator already seeded) into a new store."""
    truth: dict[tuple[str, str], dict[str, Any]] = {}
    for line in firm.truth_lines():
        fact = json.loads(line)
        truth[(fact["entity_type"], fact["payload"]["id"])] = fact["payload"]  # latest wins
    url = f"sqlite:///{base}/pssync.db"
    store = GoldenStore(open_engine(url))
    runtime = Runtime(
        store=store,
        exceptions=ExceptionStore(store.engine),
        connectors={system: connector},
        translators={system: Translator(load_spec(mapping))},
        roles={system: "erp"},
        policy=OwnershipPolicy(default_system_of_record()),
    )
    govern(runtime)
    start(runtime, url, polling_interval=0.05)
    try:
        counts = {obj: Poller(runtime, system, obj).run().counts for obj in objects}
        assert wait_idle(60)
        yield synced(system, store, firm, truth, counts)
    finally:
        dbos_app.shutdown()
        set_runtime(None)
