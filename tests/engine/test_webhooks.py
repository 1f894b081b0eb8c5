"""Webhook ingress through a real uvicorn server: Standard Webhooks and Salesforce outbound
messages reach the engine once, whatever the sender repeats; forgeries and stale or replayed
requests are refused before anything is applied."""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pssync.config.settings import WebhooksConfig
from pssync.engine.ids import new_canonical_id
from pssync.engine.webhooks import WebhookSettings, webhooks_router
from pssync.engine.worker import wait_idle
from pssync.governance.signing import sign
from pssync.mapping.spec import load_spec
from pssync.mapping.translator import Translator
from pssync.sandbox.common.runner import ServerThread

from .conftest import BP, EngineEnv, writes_made

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_c2VjcmV0LWJlZm9yZS10aGUtcm90YXRpb24="
ORG = "00D5e000000AbCdEAF"
SF_TOKEN = "sf-endpoint-Vq3kR8zXw2mN5pLt7yHc"
SF_MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/salesforce/mapping.yaml"


@dataclass
class Ingress:
    env: EngineEnv
    url: str
    clock: list[float]  # [offset seconds] added to the server's clock

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", content=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def ingress(engine_env: EngineEnv) -> Iterator[Ingress]:
    engine_env.runtime.translators["salesforce"] = Translator(load_spec(SF_MAPPING))
    engine_env.runtime.roles["salesforce"] = "crm"
    offset = [0.0]
    settings = WebhookSettings(
        secrets={"crm": (SECRET, OLD_SECRET)},
        salesforce_org_ids=(ORG[:15],),
        salesforce_tokens=("sf-endpoint-old-token-before-rotation", SF_TOKEN),
        clock=lambda: time.time() + offset[0],
    )
    app = FastAPI()
    app.include_router(webhooks_router(engine_env.runtime, settings))
    with ServerThread(app) as server:
        yield Ingress(engine_env, server.base_url, offset)


def change(number: str, name: str, stamp: str = "2026-04-01T09:00:00+00:00") -> bytes:
    record = {
        "BusinessPartner": number,
        "BusinessPartnerCategory": "2",
        "OrganizationBPName1": name,
    }
    payload = {"object": BP, "record": record, "modified_at": stamp}
    return json.dumps({"type": "record.changed", "data": payload}).encode()


def signed(
    body: bytes, message_id: str, *, secret: str = SECRET, at: int | None = None
) -> dict[str, str]:
    timestamp = int(time.time()) if at is None else at
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }


def account(system: str, obj: str, number: str) -> str:
    return new_canonical_id("Account", system, obj, number)


def test_the_same_webhook_delivered_five_times_has_one_effect(ingress: Ingress) -> None:
    env = ingress.env
    assert wait_idle(30)
    erp_writes = writes_made(env.erp)
    body = change("7100000001", "Webhook Fivefold AG")
    answers = []
    for attempt in range(5):  # a sender's retries: same ID and body, re-signed per attempt
        headers = signed(body, "msg_fivefold", at=int(time.time()) - attempt)
        answers.append(ingress.post("/webhooks/crm", body, headers))
    assert [a.status_code for a in answers] == [202, 200, 200, 200, 200]
    assert {a.json()["status"] for a in answers[1:]} == {"duplicate"}
    # The same change under other message IDs (a sender that re-mints IDs): the inbox's event key.
    for n in range(2):
        assert (
            ingress.post("/webhooks/crm", body, signed(body, f"msg_other_{n}")).status_code == 202
        )
    assert wait_idle(30)
    assert len(env.store.history("Account", account("crm", BP, "7100000001"))) == 1
    assert writes_made(env.erp) == erp_writes + 1
    names = [p["OrganizationBPName1"] for p in env.erp_partners().values()]
    assert names.count("Webhook Fivefold AG") == 1


def test_rotated_secrets_and_several_signatures_are_accepted(ingress: Ingress) -> None:
    body = change("7100000002", "Rotation GmbH")
    headers = signed(body, "msg_rotation", secret=OLD_SECRET)
    wrong = sign(
        "whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ==",
        "msg_rotation",
        int(headers["webhook-timestamp"]),
        body,
    )
    headers["webhook-signature"] = f"{wrong} v2,ignored {headers['webhook-signature']}"
    assert ingress.post("/webhooks/crm", body, headers).status_code == 202
    assert wait_idle(30)
    assert ingress.env.store.get("Account", account("crm", BP, "7100000002")) is not None


def test_bad_signatures_are_refused_and_change_nothing(ingress: Ingress) -> None:
    body = change("7100000003", "Forged Ltd")
    forged = signed(body, "msg_forged", secret="whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3ItdGVzdHM=")
    assert ingress.post("/webhooks/crm", body, forged).status_code == 401
    # A captured valid signature moved onto another body, or another message ID.
    captured = signed(change("7100000003", "Genuine Ltd"), "msg_genuine")
    assert ingress.post("/webhooks/crm", body, captured).status_code == 401
    moved = {**captured, "webhook-id": "msg_moved"}
    assert (
        ingress.post("/webhooks/crm", change("7100000003", "Genuine Ltd"), moved).status_code == 401
    )
    missing = {k: v for k, v in captured.items() if k != "webhook-signature"}
    assert ingress.post("/webhooks/crm", body, missing).status_code == 401
    assert ingress.post("/webhooks/erp", body, signed(body, "msg_no_secret")).status_code == 404
    assert wait_idle(30)
    assert ingress.env.store.get("Account", account("crm", BP, "7100000003")) is None


def test_stale_and_replayed_requests_are_refused(ingress: Ingress) -> None:
    body = change("7100000004", "Replay Oy")
    stale = signed(body, "msg_stale", at=int(time.time()) - 301)
    assert ingress.post("/webhooks/crm", body, stale).status_code == 401
    # Well past the tolerance: on a loaded machine the answer can take seconds.
    future = signed(body, "msg_future", at=int(time.time()) + 360)
    assert ingress.post("/webhooks/crm", body, future).status_code == 401

    captured = signed(body, "msg_replay")
    assert ingress.post("/webhooks/crm", body, captured).status_code == 202
    assert wait_idle(30)
    # Replayed as captured within the window: acknowledged, no second effect.
    again = ingress.post("/webhooks/crm", body, captured)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    # The same message ID reused for other content, properly signed: refused.
    other = change("7100000004", "Replay Oy (changed)", stamp="2026-04-01T10:00:00+00:00")
    assert ingress.post("/webhooks/crm", other, signed(other, "msg_replay")).status_code == 409
    # Replayed as captured after the window: refused as stale.
    ingress.clock[0] = 400.0
    try:
        assert ingress.post("/webhooks/crm", body, captured).status_code == 401
    finally:
        ingress.clock[0] = 0.0
    assert wait_idle(30)
    record_id = account("crm", BP, "7100000004")
    assert len(ingress.env.store.history("Account", record_id)) == 1
    current = ingress.env.store.get("Account", record_id)
    assert current is not None and current.payload["name"] == "Replay Oy"


def test_a_malformed_body_is_422(ingress: Ingress) -> None:
    for body in (b"{not json", json.dumps({"object": "Nope", "record": {"x": 1}}).encode()):
        assert (
            ingress.post("/webhooks/crm", body, signed(body, f"msg_bad_{len(body)}")).status_code
            == 422
        )


def outbound(org: str, notes: list[tuple[str, dict[str, str | None]]]) -> bytes:
    """A `notifications` envelope as Salesforce's outbound messaging sends it."""

    def field(name: str, value: str | None) -> str:
        return (
            f'<sf:{name} xsi:nil="true"/>' if value is None else f"<sf:{name}>{value}</sf:{name}>"
        )

    items = "".join(
        f"<Notification><Id>{note_id}</Id>"
        '<sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        + "".join(field(k, v) for k, v in fields.items())
        + "</sObject></Notification>"
        for note_id, fields in notes
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId><ActionId>04k5e000000XyZaAAK</ActionId>"
        '<SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/61.0/00D5e</EnterpriseUrl>"
        "<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/61.0/00D5e</PartnerUrl>"
        f"{items}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def sf_account(record_id: str, name: str) -> dict[str, str | None]:
    return {
        "Id": record_id,
        "Name": name,
        "Industry": None,
        "Type": "Customer",
        "SystemModstamp": "2026-04-02T08:30:00.000Z",
    }


def soap_post(ingress: Ingress, body: bytes, token: str | None = SF_TOKEN) -> httpx.Response:
    headers = {"content-type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    path = "/webhooks/salesforce/outbound" + ("" if token is None else f"/{token}")
    return ingress.post(path, body, headers)


def test_an_outbound_message_is_acknowledged_and_lands_in_the_golden_store(
    ingress: Ingress,
) -> None:
    env = ingress.env
    ids = ["0015e00000OutAaAAA", "0015e00000OutBbAAA"]
    body = outbound(
        ORG,
        [
            ("04l5e000000Note1AAA", sf_account(ids[0], "Outbound Alpha Inc")),
            ("04l5e000000Note2AAA", sf_account(ids[1], "Outbound Beta Inc")),
        ],
    )
    for _ in range(3):  # Salesforce may deliver a message more than once
        answer = soap_post(ingress, body)
        assert answer.status_code == 200, answer.text
        assert "<Ack>true</Ack>" in answer.text
        assert "http://soap.sforce.com/2005/09/outbound" in answer.text
    assert wait_idle(30)
    for record_id, name in zip(ids, ["Outbound Alpha Inc", "Outbound Beta Inc"], strict=True):
        canonical = account("salesforce", "Account", record_id)
        golden = env.store.get("Account", canonical)
        assert golden is not None and golden.payload["name"] == name
        assert len(env.store.history("Account", canonical)) == 1
    names = [p["OrganizationBPName1"] for p in env.erp_partners().values()]
    assert names.count("Outbound Alpha Inc") == names.count("Outbound Beta Inc") == 1


def test_an_outbound_message_from_another_org_or_malformed_is_a_fault(ingress: Ingress) -> None:
    record_id = "0015e00000OutCcAAA"
    body = outbound("00D000000000OthEAA", [("04l5e000000Note3AAA", sf_account(record_id, "Rogue"))])
    answer = soap_post(ingress, body)
    assert answer.status_code == 403 and "Fault" in answer.text and "Ack" not in answer.text
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert soap_post(ingress, hostile).status_code == 400
    assert soap_post(ingress, b"<Envelope/>").status_code == 400
    assert wait_idle(30)
    assert ingress.env.store.get("Account", account("salesforce", "Account", record_id)) is None


def test_a_bad_timestamp_is_refused_at_ingress_and_later_webhooks_still_apply(
    ingress: Ingress,
) -> None:
    """Issue 14 defect 2: a signed change stamped "yesterday" was acknowledged, then blocked
    the drainer; now the sender is told (422) and nothing is queued."""
    body = change("7100000005", "Yesterday Ltd", stamp="yesterday")
    answer = ingress.post("/webhooks/crm", body, signed(body, "msg_yesterday"))
    assert answer.status_code == 422 and "ISO 8601" in answer.text
    numeric = change("7100000005", "Yesterday Ltd")
    numeric = numeric.replace(b'"2026-04-01T09:00:00+00:00"', b"1775000000")
    assert ingress.post("/webhooks/crm", numeric, signed(numeric, "msg_num")).status_code == 422
    notadate = {**sf_account("0015e00000BadStAAA", "Notadate Inc"), "SystemModstamp": "notadate"}
    fault = soap_post(ingress, outbound(ORG, [("04l5e000000Note9AAA", notadate)]))
    assert fault.status_code == 422 and "SystemModstamp" in fault.text and "Ack" not in fault.text
    good = change("7100000006", "After The Bad One")
    assert ingress.post("/webhooks/crm", good, signed(good, "msg_after_bad")).status_code == 202
    assert wait_idle(30)
    assert ingress.env.store.get("Account", account("crm", BP, "7100000005")) is None
    assert (
        ingress.env.store.get("Account", account("salesforce", "Account", notadate["Id"])) is None
    )
    current = ingress.env.store.get("Account", account("crm", BP, "7100000006"))
    assert current is not None and current.payload["name"] == "After The Bad One"


def test_deleted_must_be_a_json_boolean(ingress: Ingress) -> None:
    """Issue 14 defect 7: ``"deleted": "false"`` (a string) used to delete the record."""
    body = change("7100000007", "Still Here BV")
    assert ingress.post("/webhooks/crm", body, signed(body, "msg_still_here")).status_code == 202
    assert wait_idle(30)
    record_id = account("crm", BP, "7100000007")
    for n, value in enumerate(['"false"', '"true"', "0", "1", "null", '"no"']):
        payload = json.loads(change("7100000007", "Still Here BV", "2026-04-01T10:00:00+00:00"))
        payload["data"]["deleted"] = json.loads(value)
        text = json.dumps(payload).encode()
        answer = ingress.post("/webhooks/crm", text, signed(text, f"msg_deleted_{n}"))
        assert answer.status_code == 422 and "deleted must be true or false" in answer.text
    assert wait_idle(30)
    current = ingress.env.store.get("Account", record_id)
    assert current is not None and not current.deleted
    assert len(ingress.env.store.history("Account", record_id)) == 1


def test_deeply_nested_json_is_refused_with_422(ingress: Ingress) -> None:
    """Issue 14 defect 12: 100,000 nested arrays raised RecursionError, answered 500."""
    for depth in (33, 100_000):
        body = b"[" * depth + b"]" * depth
        answer = ingress.post("/webhooks/crm", body, signed(body, f"msg_deep_{depth}"))
        assert answer.status_code == 422 and "nested deeper" in answer.text
    record = json.loads(change("7100000008", "Nested Ok"))
    record["data"]["record"]["Extra"] = {"a": {"b": ["not too deep"]}}
    text = json.dumps(record).encode()
    assert ingress.post("/webhooks/crm", text, signed(text, "msg_nested_ok")).status_code == 202
    # Brackets inside strings are text, not nesting.
    record["data"]["record"]["Extra"] = "[" * 1000 + '\\"{'
    text = json.dumps(record).encode()
    assert ingress.post("/webhooks/crm", text, signed(text, "msg_brackets")).status_code in (
        200,
        202,
    )


def test_an_oversized_body_is_413(ingress: Ingress) -> None:
    body = b" " * 2_000_001
    assert ingress.post("/webhooks/crm", body, signed(body, "msg_huge")).status_code == 413


def test_an_outbound_message_naming_the_org_without_a_credential_is_refused(
    ingress: Ingress,
) -> None:
    """Issue 14 defect 6: a forged message naming the org, with no other credential, created
    golden Account "Attacker Shell Co"."""
    record_id = "0015e00000AttackAAA"
    body = outbound(ORG, [("04l5e000000NoteXAAA", sf_account(record_id, "Attacker Shell Co"))])
    for token in (None, "guessed-token-guessed-token", SF_TOKEN[:-1], SF_TOKEN + "x"):
        answer = soap_post(ingress, body, token)
        assert answer.status_code == 403 and "Ack" not in answer.text, token
    assert "endpoint token" in soap_post(ingress, body, None).text
    assert wait_idle(30)
    assert ingress.env.store.get("Account", account("salesforce", "Account", record_id)) is None


def _outbound_app(env: EngineEnv, **options: object) -> ServerThread:
    settings = WebhookSettings(salesforce_org_ids=(ORG[:15],), **options)  # type: ignore[arg-type]
    app = FastAPI()
    app.include_router(webhooks_router(env.runtime, settings))
    return ServerThread(app)


def test_outbound_messages_need_a_configured_credential_and_an_allowed_address(
    ingress: Ingress,
) -> None:
    body = outbound(ORG, [("04l5e000000NoteYAAA", sf_account("0015e00000AllowAAA", "Allowed"))])
    headers = {"content-type": "text/xml; charset=utf-8"}
    url = "/webhooks/salesforce/outbound"
    with _outbound_app(ingress.env) as server:  # neither a token nor an allow-list: off
        answer = httpx.post(server.base_url + url, content=body, headers=headers)
        assert answer.status_code == 403 and "not enabled" in answer.text
    other_net = (ipaddress.ip_network("13.108.0.0/14"),)
    with _outbound_app(ingress.env, salesforce_networks=other_net) as server:
        answer = httpx.post(server.base_url + url, content=body, headers=headers)
        assert answer.status_code == 403 and "not allowed" in answer.text
    local = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
    with _outbound_app(ingress.env, salesforce_networks=local) as server:
        answer = httpx.post(server.base_url + url, content=body, headers=headers)
        assert answer.status_code == 200 and "<Ack>true</Ack>" in answer.text
    both = {"salesforce_networks": local, "salesforce_tokens": (SF_TOKEN,)}
    with _outbound_app(ingress.env, **both) as server:  # both set: both are required
        answer = httpx.post(server.base_url + url, content=body, headers=headers)
        assert answer.status_code == 403
        answer = httpx.post(f"{server.base_url}{url}/{SF_TOKEN}", content=body, headers=headers)
        assert answer.status_code == 200
    assert wait_idle(30)
    golden = ingress.env.store.get(
        "Account", account("salesforce", "Account", "0015e00000AllowAAA")
    )
    assert golden is not None


def test_webhook_settings_from_pssync_yaml_and_the_environment() -> None:
    config = WebhooksConfig.model_validate(
        {
            "tolerance_seconds": 120,
            "secrets": {"CRM": [SECRET]},
            "salesforce": {
                "org_ids": [ORG],
                "endpoint_secrets": [SF_TOKEN],
                "allowed_ips": ["13.108.0.0/14"],
            },
        }
    )
    env = {"PSSYNC_WEBHOOK_SECRET_CRM": OLD_SECRET, "PSSYNC_SALESFORCE_ALLOWED_IPS": "10.1.0.0/16"}
    settings = WebhookSettings.from_config(config, env)
    assert settings.secrets == {"crm": (OLD_SECRET, SECRET)}
    assert settings.tolerance == 120 and settings.salesforce_tokens == (SF_TOKEN,)
    assert [str(n) for n in settings.salesforce_networks] == ["10.1.0.0/16", "13.108.0.0/14"]
    with pytest.raises(ValueError, match="URL-safe"):
        WebhooksConfig.model_validate({"salesforce": {"endpoint_secrets": ["short"]}})
    with pytest.raises(ValueError):
        WebhooksConfig.model_validate({"salesforce": {"allowed_ips": ["not-a-network"]}})
