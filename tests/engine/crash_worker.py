"""A `pssync worker`-like process for the crash test: sync the CRM's partners to the ERP.

Run as ``python crash_worker.py CONFIG.json``; the test kills it with SIGKILL mid-run and starts
it again. Everything it needs comes from the config file (emulator URLs and credentials, the
golden store URL), so the second process is exactly the first one restarted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import BP, FAST, SAP_MAPPING
from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.engine.capture import Poller
from pssync.engine.page_processes import served
from pssync.engine.runtime import Runtime
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.translator import Translator
from pssync.store import GoldenStore, open_engine


def factory(system: dict[str, str]) -> object:
    def build() -> SapS4Connector:
        return SapS4Connector(
            SapS4Settings(
                base_url=system["base_url"],
                username=system["username"],
                password=system["password"],
                sap_client="100",
                page_size=50,
                timeout=10.0,
            )
        )

    return build


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
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
        executor_id="crash-test",
        polling_interval=0.05,
        page_processes=config.get("page_processes", 0),
    )
    print("started", json.dumps({"page_processes": list(served().pids)}), flush=True)
    # Two 50-partner pages per workflow: the kill lands between and within multi-page batches.
    report = Poller(runtime, "crm", BP, batch_records=100).run()
    print("captured", report.counts, flush=True)
    if not wait_idle(120):
        sys.exit(3)
    print("done", flush=True)


if __name__ == "__main__":
    main()
