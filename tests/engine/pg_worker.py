"""A `pssync worker`-like process for the two-worker PostgreSQL test.

Run as ``python pg_worker.py CONFIG.json EXECUTOR_ID``: it launches the engine on the
PostgreSQL golden store and DBOS system database named in the config, with its own executor ID
and a fast heartbeat, then polls the CRM in a loop until it is killed. Two of these share the
queues; the test kills one with SIGKILL and watches the other finish.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from crash_worker import factory

from conftest import BP, FAST, SAP_MAPPING
from pssync.engine.capture import Poller
from pssync.engine.dbos_app import QueueSettings
from pssync.engine.runtime import Runtime
from pssync.engine.worker import start
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.translator import Translator
from pssync.store import GoldenStore, open_engine


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    executor_id = sys.argv[2]
    store = GoldenStore(open_engine(config["store_url"]))
    runtime = Runtime(
        store=store,
        exceptions=ExceptionStore(store.engine),
        connectors={"crm": factory(config["crm"]), "erp": factory(config["erp"])},  # type: ignore[dict-item]
        translators={"crm": Translator(SAP_MAPPING), "erp": Translator(SAP_MAPPING)},
        roles={"crm": "crm", "erp": "erp"},
        delivery=FAST,
    )
    start(
        runtime,
        config["store_url"],
        executor_id=executor_id,
        # One ERP delivery at a time per worker: with two workers the queue is drained by both,
        # and each always has one in flight (what the kill must catch) while work is left.
        queues={"erp": QueueSettings(worker_concurrency=1)},
        polling_interval=0.05,
        heartbeat=0.3,
        stale_after=config.get("stale_after", 2.0),
    )
    print("started", executor_id, flush=True)
    while True:
        # One workflow per 10-partner page: SAP writes go in one $batch per delivery, so 30
        # small deliveries (not 6 large ones) keep the run long enough for the kill to land
        # mid-run, with deliveries left in the queue for the survivor.
        report = Poller(runtime, "crm", BP, batch_records=10).run()
        if report.counts:
            print(executor_id, "captured", report.counts, flush=True)
        time.sleep(0.3)


if __name__ == "__main__":
    main()
