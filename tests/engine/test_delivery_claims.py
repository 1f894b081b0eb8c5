"""Two deliveries of one golden record at once create it once (issue 14: a chaos run on two
PostgreSQL workers once ended with 12 SAP business partners twice).

Routing sends unchanged records again on purpose, so two workers can deliver the same account
to SAP at the same moment. The race is forced here: every external-ID look-up waits until both
deliveries have looked up (or two seconds have passed), so without a claim both find nothing
and both create.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pssync.connectors.sap_s4 import writes
from pssync.engine.deliver import SendResult, send
from pssync.engine.deliver_claims import Claims
from pssync.engine.outbound import ACCOUNT_TO_ERP, AppliedChange, Command
from pssync.engine.runtime import Runtime
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.translator import Translator
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

from .conftest import BP, FAST, SAP_MAPPING, connector_factory


@pytest.fixture
def runtime(db_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, SapS4Emulator]]:
    store = GoldenStore(open_engine(db_url))
    try:
        with (
            SapS4Emulator(state_dir=tmp_path / "crm") as crm,
            SapS4Emulator(state_dir=tmp_path / "erp") as erp,
        ):
            yield (
                Runtime(
                    store=store,
                    exceptions=ExceptionStore(store.engine),
                    connectors={"crm": connector_factory(crm), "erp": connector_factory(erp)},
                    translators={"crm": Translator(SAP_MAPPING), "erp": Translator(SAP_MAPPING)},
                    roles={"crm": "crm", "erp": "erp"},
                    delivery=FAST,
                ),
                erp,
            )
    finally:
        store.engine.dispose()


def partners(erp: SapS4Emulator, external_id: str) -> list[dict[str, Any]]:
    connector = connector_factory(erp)()
    try:
        return [
            r.data
            for page in connector.snapshot(BP)
            for r in page.records
            if r.data.get("BusinessPartnerIDByExtSystem") == external_id
        ]
    finally:
        connector.close()


def command(runtime: Runtime) -> Command:
    change = AppliedChange(
        "crm", BP, "0000000001", "Account", "acc-race", {"name": "Race Co"}, "event-1"
    )
    (routed,) = ACCOUNT_TO_ERP(runtime, change)
    return routed


def test_two_deliveries_of_one_record_at_once_create_it_once(
    runtime: tuple[Runtime, SapS4Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, erp = runtime
    both_looked = threading.Barrier(2)
    real_lookup = writes.Upsert.lookup

    def lookup_then_wait(self: writes.Upsert, ids: list[str]) -> Any:
        found = real_lookup(self, ids)
        # Broken: the other delivery never looked up, so it did not run at the same time.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_looked.wait(timeout=2)
        return found

    monkeypatch.setattr(writes.Upsert, "lookup", lookup_then_wait)
    routed = command(rt)
    results: list[SendResult] = []
    threads = [threading.Thread(target=lambda: results.append(send(rt, [routed]))) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(r.written for r in results) == [0, 1], results
    waiting = next(r for r in results if not r.written)
    assert waiting.busy and waiting.error is None and not waiting.failed
    assert [c["external_id"] for c in waiting.retry] == [routed.external_id]

    # The delivery that waited runs again (deliver_batch's next attempt): nothing to create.
    again = send(rt, [Command.from_dict(waiting.retry[0])])
    assert again.written == 0 and not again.retry and not again.failed, again
    found = partners(erp, routed.external_id)
    assert len(found) == 1, found
    assert found[0]["OrganizationBPName1"] == "Race Co"


def test_a_claim_whose_holder_died_or_expired_is_taken_over(db_url: str) -> None:
    store = GoldenStore(open_engine(db_url))
    try:
        live = Claims(store.engine)
        assert live.take("erp", BP, ["b"]) == {"b"}
        dead = Claims(store.engine)
        dead.holder = dead.holder.split(":")[0] + ":999999999:killed"  # no such process
        assert dead.take("erp", BP, ["a"]) == {"a"}
        assert Claims(store.engine).take("erp", BP, ["a", "b", "c"]) == {"a", "c"}
        elsewhere = Claims(store.engine, seconds=-1.0)  # its lease ran out
        elsewhere.holder = "another-host:1:gone"
        assert elsewhere.take("erp", BP, ["d"]) == {"d"}
        assert Claims(store.engine).take("erp", BP, ["d"]) == {"d"}
        live.release("erp", BP, ["b"])
        assert Claims(store.engine).take("erp", BP, ["b"]) == {"b"}
    finally:
        store.engine.dispose()
