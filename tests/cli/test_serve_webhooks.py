"""Webhooks through the product: `pssync serve` (a real uvicorn server on a free port) takes a
Standard Webhook and a Salesforce outbound message, a bounded `pssync worker` applies them, and
the records are in the golden store. The ingress sits behind the API's rate limits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from pssync.api import create_app
from pssync.api.config import ApiSettings
from pssync.config.settings import Settings
from pssync.demo.config import _connector
from pssync.engine.ids import new_canonical_id
from pssync.engine.runtime import Runtime
from pssync.engine.signing import sign
from pssync.engine.webhooks import WebhookSettings
from pssync.governance.exceptions import ExceptionStore
from pssync.sandbox.up import Sandbox
from pssync.store import GoldenStore, open_engine

PSSYNC = str(Path(sys.executable).parent / "pssync")
SECRET = "whsec_c2VydmUtd2ViaG9vay1lMmUtc2VjcmV0LTEyMw=="
ORG = "00D5e000000AbCdEAF"
# The secret Salesforce's outbound message action carries as the endpoint URL's last segment.
OUTBOUND_TOKEN = "outbound-token-for-the-served-e2e-test-0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """(base URL of `pssync serve`, its pssync.yaml, the environment) over a CRM sandbox."""
    sandbox = Sandbox.start_all("small", 7, state_dir=tmp_path / "state", systems=["salesforce"])
    env = {
        **os.environ,
        "PSSYNC_WEBHOOK_SECRET_SALESFORCE": SECRET,
        "PSSYNC_SALESFORCE_ORG_IDS": ORG[:15],
        "PSSYNC_SALESFORCE_ENDPOINT_SECRETS": OUTBOUND_TOKEN,
    }
    server: subprocess.Popen[str] | None = None
    try:
        config = {
            "database_url": f"sqlite:///{tmp_path / 'pssync.db'}",
            "analytics_path": str(tmp_path / "pssync.duckdb"),
            "connectors": {
                "salesforce": _connector("salesforce", sandbox.describe()["salesforce"])
            },
        }
        path = tmp_path / "pssync.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        port = free_port()
        server = subprocess.Popen(
            [PSSYNC, "serve", "--port", str(port), "--config", str(path)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "pssync serve did not come up"
            time.sleep(0.2)
        yield url, path, env
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        sandbox.stop()


def standard_webhook(record: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"type": "record.changed", "data": {"object": "Account", "record": record}})
    message_id, stamp = f"msg_{record['Id']}", int(time.time())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(SECRET, message_id, stamp, body.encode()),
        "content-type": "application/json",
    }
    return body.encode(), headers


def outbound_message(record: dict[str, str]) -> bytes:
    """A `notifications` envelope as Salesforce's outbound messaging sends it."""
    fields = "".join(f"<sf:{k}>{v}</sf:{k}>" for k, v in record.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{ORG}</OrganizationId><ActionId>04k5e000000XyZaAAK</ActionId>"
        "<Notification><Id>04l5e000000Serve1AA</Id>"
        '<sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"{fields}</sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def test_webhooks_sent_to_pssync_serve_reach_the_golden_store(
    served: tuple[str, Path, dict[str, str]],
) -> None:
    url, config, env = served
    hooked = {
        "Id": "0015e00000ServeWHA",
        "Name": "Served Webhook Ltd",
        "SystemModstamp": "2026-04-02T08:30:00.000Z",
    }
    body, headers = standard_webhook(hooked)
    answer = httpx.post(f"{url}/webhooks/salesforce", content=body, headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text
    soap = {
        "Id": "0015e00000ServeOMA",
        "Name": "Served Outbound Inc",
        "SystemModstamp": "2026-04-02T08:31:00.000Z",
    }
    soap_headers = {"content-type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    forged = {**soap, "Id": "0015e00000ForgedOMA", "Name": "Forged Without Token"}
    answer = httpx.post(
        f"{url}/webhooks/salesforce/outbound",
        content=outbound_message(forged),
        headers=soap_headers,
        timeout=10,
    )
    assert answer.status_code == 403, answer.text  # the org ID alone proves nothing
    answer = httpx.post(
        f"{url}/webhooks/salesforce/outbound/{OUTBOUND_TOKEN}",
        content=outbound_message(soap),
        headers=soap_headers,
        timeout=10,
    )
    assert answer.status_code == 200 and "<Ack>true</Ack>" in answer.text, answer.text

    worker = subprocess.run(
        [PSSYNC, "worker", "--max-cycles", "1", "--interval", "0", "--config", str(config)],
        env=env,
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    store = GoldenStore(open_engine(Settings(**yaml.safe_load(config.read_text())).database_url))
    try:
        for record in (hooked, soap):
            canonical = new_canonical_id("Account", "salesforce", "Account", record["Id"])
            golden = store.get("Account", canonical)
            assert golden is not None, record
            assert golden.payload["name"] == record["Name"]
        forged_id = new_canonical_id("Account", "salesforce", "Account", forged["Id"])
        assert store.get("Account", forged_id) is None
    finally:
        store.engine.dispose()


def test_the_ingress_is_behind_the_api_s_rate_limits(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'p.db'}", analytics_path=str(tmp_path / "a.duckdb")
    )
    store = GoldenStore(open_engine(settings.database_url))
    runtime = Runtime(store=store, exceptions=ExceptionStore(store.engine))
    limits = ApiSettings(rate_per_minute=1, rate_burst=2)
    app = create_app(
        settings,
        limits,
        ingress=runtime,
        webhooks=WebhookSettings(secrets={"crm": (SECRET,)}),
        dashboard=False,
    )
    try:
        with TestClient(app) as client:
            codes = [client.post("/webhooks/crm", content=b"{}").status_code for _ in range(3)]
            other = client.post("/webhooks/erp", content=b"{}").status_code
    finally:
        app.state.ctx.close()
        store.engine.dispose()
    # Unsigned: refused (401) while the sender has tokens, then 429 before anything is read.
    assert codes == [401, 401, 429]
    assert other == 404  # another sender has its own bucket (and no secret configured)
