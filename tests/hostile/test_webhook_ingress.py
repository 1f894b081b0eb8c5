"""Hostile input at the webhook ingress, fuzzed with Hypothesis (issue 14, hostile-input suite).

Whatever a sender posts — any bytes, any JSON shape, deep nesting, booleans as strings, bad
stamps, forged or missing credentials — the answer is a deliberate 2xx or 4xx, never a 5xx; and
nothing reaches the queue that the pipeline would refuse (`pushed.problem_of`), so no poison
message is ever acknowledged. The ingress runs in-process (TestClient) on a real golden store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from pssync.engine import runtime as engine_runtime
from pssync.engine.pushed import problem_of
from pssync.engine.runtime import Runtime
from pssync.engine.tables import engine_pushed_event
from pssync.engine.webhooks import WebhookSettings, webhooks_router
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.signing import sign
from pssync.mapping.spec import load_spec
from pssync.mapping.translator import Translator
from pssync.store import GoldenStore, open_engine

SRC = Path(__file__).parents[2] / "src/pssync/connectors"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "hostile-suite-endpoint-token-0123456789"
ORG = "00D5e000000AbCdEAF"
BP = "A_BusinessPartner"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Env:
    def __init__(self, client: TestClient, store: GoldenStore) -> None:
        self.client, self.store = client, store

    def queued(self) -> list[dict[str, Any]]:
        with self.store.engine.begin() as conn:
            stored = conn.execute(select(engine_pushed_event.c.record)).scalars()
            rows = [json.loads(text) for text in stored]
            conn.execute(delete(engine_pushed_event))
        return rows

    def standard(self, body: bytes, message_id: str) -> int:
        stamp = int(time.time())
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(SECRET, message_id, stamp, body),
        }
        return self.client.post("/webhooks/crm", content=body, headers=headers).status_code


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path = tmp_path_factory.mktemp("hostile") / "golden.db"
    store = GoldenStore(open_engine(f"sqlite:///{path}"))
    runtime = Runtime(store=store, exceptions=ExceptionStore(store.engine))
    runtime.translators["crm"] = Translator(load_spec(SRC / "sap_s4/mapping.yaml"))
    runtime.translators["salesforce"] = Translator(load_spec(SRC / "salesforce/mapping.yaml"))
    previous = engine_runtime._current
    engine_runtime.set_runtime(runtime)
    settings_ = WebhookSettings(
        secrets={"crm": (SECRET,)}, salesforce_org_ids=(ORG,), salesforce_tokens=(TOKEN,)
    )
    app = FastAPI()
    app.include_router(webhooks_router(runtime, settings_))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Env(client, store)
    finally:
        engine_runtime.set_runtime(previous)
        store.engine.dispose()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_ids = iter(range(10**9))


def _assert_only_sound_events_queued(env: Env) -> None:
    for record in env.queued():
        assert problem_of(record) is None, record


@FUZZ
@given(body=st.binary(max_size=2000))
def test_any_signed_bytes_get_a_4xx_or_2xx(env: Env, body: bytes) -> None:
    status = env.standard(body, f"msg_bytes_{next(_ids)}")
    assert status in (200, 202, 409, 413, 422), status
    _assert_only_sound_events_queued(env)


@FUZZ
@given(
    record=st.fixed_dictionaries(
        {"BusinessPartner": st.text(min_size=1, max_size=10) | json_values},
        optional={"OrganizationBPName1": json_values, "LastChangeDate": json_values},
    ),
    stamp=json_values | st.sampled_from(["yesterday", "2026-04-01T09:00:00Z", "", "2026-13-45"]),
    deleted=st.none() | json_values | st.sampled_from(["false", "true", 0, 1, False, True]),
    envelope=st.booleans(),
    extra=st.dictionaries(st.sampled_from(["id", "system", "type", "object"]), json_values),
)
def test_change_shaped_bodies_queue_only_what_the_pipeline_can_take(
    env: Env,
    record: dict[str, Any],
    stamp: Any,
    deleted: Any,
    envelope: bool,
    extra: dict[str, Any],
) -> None:
    data: dict[str, Any] = {"object": BP, "record": record, "modified_at": stamp, **extra}
    if deleted is not None:
        data["deleted"] = deleted
    payload = {"type": "record.changed", "data": data} if envelope else data
    status = env.standard(json.dumps(payload).encode(), f"msg_change_{next(_ids)}")
    assert status in (202, 422), status
    queued = env.queued()
    event(f"status {status}")
    if status == 202:
        assert len(queued) == 1 and problem_of(queued[0]) is None
        assert queued[0]["deleted"] is (deleted is True)  # never a string read as true
    else:
        assert queued == []


@FUZZ
@given(depth=st.integers(min_value=1, max_value=200_000), opener=st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_a_422_not_a_500(env: Env, depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "1" + closer * depth).encode()
    assert env.standard(body, f"msg_deep_{next(_ids)}") in (413, 422)
    assert env.queued() == []


def _outbound(fields: dict[str, str], org: str = ORG) -> bytes:
    items = "".join(f"<sf:{k}>{v}</sf:{k}>" for k, v in fields.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org}</OrganizationId><Notification><Id>04l5e000000N1AAA</Id>"
        '<sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"{items}</sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


xml_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="<&"), max_size=30
)


@FUZZ
@given(
    body=st.binary(max_size=1500)
    | st.builds(
        _outbound,
        st.fixed_dictionaries(
            {
                "Id": xml_text | st.just("0015e00000FuzzAAA"),
                "Name": xml_text,
                "SystemModstamp": xml_text | st.just("2026-04-02T08:30:00.000Z"),
            },
            optional={"Type": xml_text},
        ),
    ),
    token=st.sampled_from([TOKEN, None, "wrong-token-wrong-token-wrong", TOKEN + "x"]),
)
def test_outbound_messages_need_the_token_and_never_5xx(
    env: Env, body: bytes, token: str | None
) -> None:
    path = "/webhooks/salesforce/outbound" + ("" if token is None else f"/{token}")
    answer = env.client.post(path, content=body, headers={"content-type": "text/xml"})
    queued = env.queued()
    if token != TOKEN:
        assert answer.status_code == 403 and queued == []
        return
    assert answer.status_code in (200, 400, 403, 422), answer.status_code
    if answer.status_code == 200:
        assert "<Ack>true</Ack>" in answer.text
        assert all(problem_of(r, "SystemModstamp") is None for r in queued)
    else:
        assert queued == [] and "Fault" in answer.text


@pytest.mark.parametrize("depth", [1000, 200_000])
def test_deeply_nested_xml_is_a_fault_not_a_500(env: Env, depth: int) -> None:
    body = b"<a>" * depth + b"</a>" * depth
    path = f"/webhooks/salesforce/outbound/{TOKEN}"
    answer = env.client.post(path, content=body, headers={"content-type": "text/xml"})
    assert answer.status_code == 400 and "Fault" in answer.text
    assert env.queued() == []
