"""Steady-state sync latency, source change to target write: 1 s polling vs webhooks.

Two SAP S/4HANA emulators stand in for a CRM (source) and an ERP (target); the engine runs on
SQLite as a single worker would. A producer creates business partners in the CRM at a steady
rate (~20 changes/s). In ``polling`` mode a capture loop polls the CRM every second; in
``webhook`` mode the producer also pushes each change as a signed Standard Webhook to the
ingress of the product's served app (`create_app(ingress=...)`, as `pssync serve` mounts it, on
a real uvicorn server). The runtime is governed, as every runtime the builder makes is, and the
polling loop is the worker's cycle (`engine.cycle.run_cycle`). Latency is measured from the
moment the CRM accepted the change to the moment the ERP's upsert call carrying it returned.
Prints one JSON line.

    python bench/bench_latency.py [--rate 20] [--seconds 10] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pssync.api import create_app
from pssync.api.config import ApiSettings
from pssync.config.settings import Settings
from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.engine import dbos_app
from pssync.engine.cycle import run_cycle
from pssync.engine.runtime import DeliveryPolicy, Runtime
from pssync.engine.webhooks import WebhookSettings
from pssync.engine.worker import start, wait_idle
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.signing import sign
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.runtime import govern
from pssync.sandbox.common.runner import ServerThread
from pssync.sandbox.sap_s4 import SapS4Emulator
from pssync.store import GoldenStore, open_engine

BP = "A_BusinessPartner"
NAME = "OrganizationBPName1"
SECRET = "whsec_YmVuY2gtbGF0ZW5jeS1zZWNyZXQ="
MAPPING = MappingSpec.model_validate(
    {
        "system": "sap_s4",
        "objects": {
            BP: {
                "entity": "Account",
                "id_field": "BusinessPartner",
                "external_id_field": "BusinessPartnerIDByExtSystem",
                "fields": {"name": NAME, "legal_name": "OrganizationBPName2"},
            }
        },
    }
)
numbers = itertools.count(8_000_000_001)
written: dict[str, float] = {}  # partner name -> when the ERP write carrying it returned


class TimedConnector(SapS4Connector):
    """The ERP connector, noting when each partner name was written."""

    def upsert(self, obj: str, external_id_field: str, rows: list[dict[str, Any]]) -> Any:
        result = super().upsert(obj, external_id_field, rows)
        now = time.monotonic()
        for row in rows:
            if row.get(NAME):
                written.setdefault(str(row[NAME]), now)
        return result


def factory(emulator: Any, cls: type[SapS4Connector] = SapS4Connector) -> Any:
    creds = emulator.credentials()
    settings = SapS4Settings(
        base_url=emulator.base_url,
        username=creds["username"],
        password=creds["password"],
        sap_client=creds["sap_client"],
        page_size=200,
        timeout=10.0,
    )
    return lambda: cls(settings)


def produce(
    crm: SapS4Connector,
    rate: float,
    seconds: float,
    label: str,
    push: Callable[[dict[str, Any]], None] | None,
) -> dict[str, float]:
    """Create partners at `rate`/s; the monotonic time each was accepted by the CRM."""
    changed: dict[str, float] = {}
    begin = time.monotonic()
    for i in range(int(rate * seconds)):
        time.sleep(max(0.0, begin + i / rate - time.monotonic()))
        row = {"BusinessPartner": f"{next(numbers):010d}", "BusinessPartnerCategory": "2"}
        row["BusinessPartnerGrouping"] = "BP03"  # the caller numbers the partner (external range)
        row |= {NAME: f"Latency {label} {i:05d}", "OrganizationBPName2": f"{label} {i} Ltd"}
        result = crm.upsert(BP, "BusinessPartner", [row])
        assert result[0].error is None, result
        changed[row[NAME]] = time.monotonic()
        if push is not None:
            push(row)
    return changed


def summary(changed: dict[str, float], settle: float) -> dict[str, Any]:
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and any(n not in written for n in changed):
        time.sleep(0.05)
    latencies = sorted((written[n] - t) * 1000 for n, t in changed.items() if n in written)
    if not latencies:
        return {"changes": len(changed), "missing": len(changed)}
    return {
        "changes": len(changed),
        "missing": len(changed) - len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        "max_ms": round(latencies[-1], 1),
    }


def polling(runtime: Runtime, crm: SapS4Connector, args: argparse.Namespace) -> dict[str, Any]:
    run_cycle(runtime)  # catch up first: only steady state is measured
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            began = time.monotonic()
            run_cycle(runtime)  # the worker's cycle: every system polled, then re-pointing
            stop.wait(max(0.0, args.interval - (time.monotonic() - began)))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    changed = produce(crm, args.rate, args.seconds, "poll", None)
    result = summary(changed, settle=args.interval + 30)
    stop.set()
    thread.join()
    return {"interval_s": args.interval, **result}


def webhook(
    runtime: Runtime, crm: SapS4Connector, args: argparse.Namespace, base: Path
) -> dict[str, Any]:
    """Webhooks through the product's served app (`create_app(ingress=...)`, as `pssync
    serve` mounts it), with the API's limits raised to the bench's rate."""
    settings = Settings(database_url=runtime.store.url_text, analytics_path=str(base / "a.duckdb"))
    limits = ApiSettings(rate_per_minute=60 * max(1000.0, 2 * args.rate), rate_burst=10_000)
    hooks = WebhookSettings(secrets={"crm": (SECRET,)})
    app = create_app(settings, limits, ingress=runtime, webhooks=hooks, dashboard=False)
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url) as client:
        ids = itertools.count()

        def push(row: dict[str, Any]) -> None:
            stamp = dt.datetime.now(dt.UTC).isoformat()
            body = json.dumps({"object": BP, "record": row, "modified_at": stamp}).encode()
            message_id, ts = f"msg_{next(ids)}", int(time.time())
            headers = {
                "webhook-id": message_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": sign(SECRET, message_id, ts, body),
            }
            client.post("/webhooks/crm", content=body, headers=headers).raise_for_status()

        changed = produce(crm, args.rate, args.seconds, "hook", push)
        found = summary(changed, settle=30)
    app.state.ctx.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="per mode")
    parser.add_argument("--interval", type=float, default=1.0, help="polling interval (s)")
    parser.add_argument(
        "--no-governance",
        action="store_true",
        help="without governance's stages (as runs before governance was on for every runtime)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        url = f"sqlite:///{base}/pssync.db"
        store = GoldenStore(open_engine(url))
        with (
            SapS4Emulator(state_dir=base / "crm") as crm_emu,
            SapS4Emulator(state_dir=base / "erp") as erp_emu,
        ):
            runtime = Runtime(
                store=store,
                exceptions=ExceptionStore(store.engine),
                connectors={"crm": factory(crm_emu), "erp": factory(erp_emu, TimedConnector)},
                translators={"crm": Translator(MAPPING), "erp": Translator(MAPPING)},
                roles={"crm": "crm", "erp": "erp"},
                delivery=DeliveryPolicy(base_delay=0.05, max_delay=1.0),
            )
            if not args.no_governance:
                govern(runtime)
            start(runtime, url, polling_interval=0.05)
            crm = factory(crm_emu)()
            try:
                result = {
                    "bench": "latency",
                    "rate_per_s": args.rate,
                    "governance": not args.no_governance,
                    "polling": polling(runtime, crm, args),
                    "webhook": webhook(runtime, crm, args, base),
                }
                wait_idle(30)
            finally:
                crm.close()
                dbos_app.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
