"""Request and response bodies typed from NetSuite's documentation (tests/fixtures/vendors/
netsuite/, each naming its page): the emulator must answer the documented requests the way the
pages show, and the connector must parse the documented answers. The second half does not
depend on our emulator at all, which is the point: both sides are held to the vendor's text.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from test_netsuite import settings_for

from pssync.connectors.errors import AuthError, PermanentError
from pssync.connectors.netsuite.objects import OBJECTS, plain_row
from pssync.connectors.netsuite.soap import parse_answer, passport
from pssync.connectors.netsuite.transport import Transport, classify
from pssync.connectors.netsuite.writes import location_id
from pssync.sandbox.netsuite import NetSuiteEmulator

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures/vendors/netsuite"
SEED = {
    "subsidiary": [{"id": "1", "name": "Honeycomb Mfg."}],
    "customer": [
        {
            "id": "107",
            "companyName": "Wolfe Electronics",
            "subsidiary": {"id": "1"},
            "dateCreated": "2024-03-14T14:05:00Z",
            "lastModifiedDate": "2024-03-14T14:05:00Z",
        },
        {
            "id": "108",
            "companyName": "Ocean Air",
            "subsidiary": {"id": "1"},
            "dateCreated": "2025-01-05T09:30:00Z",
            "lastModifiedDate": "2025-01-05T09:30:00Z",
        },
        {
            "id": "109",
            "isPerson": True,
            "firstName": "Jane",
            "lastName": "Doe",
            "externalId": "CID002",
            "subsidiary": {"id": "1"},
        },
    ],
}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert data["source"].startswith("https://docs.oracle.com/"), name
    return data


def test_at_least_five_fixtures_each_naming_its_page() -> None:
    names = sorted(p.stem for p in FIXTURES.glob("*.json"))
    assert len(names) >= 5
    for name in names:
        assert fixture(name)["title"]


# ---- the emulator answers the documented requests -------------------------------------


@pytest.fixture(scope="module")
def transport() -> Iterator[Transport]:
    with NetSuiteEmulator() as emu:
        emu.seed(json.loads(json.dumps(SEED)))
        sender = Transport(settings_for(emu))
        yield sender
        sender.close()


def send(transport: Transport, request: dict[str, Any], **auth: Any) -> httpx.Response:
    return transport.client.request(
        request["method"],
        request["path"],
        params=request.get("query"),
        json=request.get("body"),
        headers={k: v for k, v in request.get("headers", {}).items() if k != "Authorization"},
        auth=auth.get("auth", transport.auth),
    )


def location_pattern(documented: str) -> re.Pattern[str]:
    path = documented.split(".com", 1)[1].replace("{id}", "")
    return re.compile(rf"https?://[^/]+{re.escape(path)}\d+")


def same_shape(documented: Any, answered: Any, ids: dict[str, str]) -> None:
    """Every documented key is answered with the same value ({id}: the created record's)."""
    if isinstance(documented, dict):
        for key, value in documented.items():
            if key == "links":
                continue
            assert key in answered, key
            same_shape(value, answered[key], ids)
    elif isinstance(documented, str) and "{id}" in documented:
        assert answered == documented.replace("{id}", ids["id"])
    else:
        assert answered == documented


def test_create_get_and_upsert_by_external_id(transport: Transport) -> None:
    create = fixture("create_customer_with_external_id")
    answer = send(transport, create["request"])
    assert answer.status_code == create["response"]["status"], answer.text
    location = answer.headers["location"]
    assert location_pattern(create["response"]["headers"]["Location"]).fullmatch(location)
    ids = {"id": location_id(location)}

    got = fixture("get_customer_by_external_id")
    answer = send(transport, got["request"])
    assert answer.status_code == got["response"]["status"], answer.text
    same_shape(got["response"]["body"], answer.json(), ids)
    (self_link,) = answer.json()["links"]
    assert self_link["rel"] == "self" and self_link["href"].endswith(f"/customer/{ids['id']}")

    upsert = fixture("upsert_customer_by_external_id")
    answer = send(transport, upsert["request"])
    assert answer.status_code == upsert["response"]["status"], answer.text
    assert location_id(answer.headers["location"]) == "109"  # CID002 existed: updated
    updated = transport.client.get("/services/rest/record/v1/customer/109", auth=transport.auth)
    assert (updated.json()["firstName"], updated.json()["lastName"]) == ("John", "Smith")


def test_collection_paging(transport: Transport) -> None:
    paging = fixture("collection_paging_customer")
    answer = send(transport, paging["request"])
    assert answer.status_code == 200, answer.text
    body, documented = answer.json(), paging["response"]["body"]
    assert list(body) == list(documented)  # same envelope, same order
    assert {link["rel"] for link in documented["links"]} <= {link["rel"] for link in body["links"]}
    assert [sorted(item) for item in body["items"]] == [["id", "links"]] * 2
    assert [item["id"] for item in body["items"]] == ["107", "108"]
    assert (body["count"], body["hasMore"], body["offset"]) == (2, True, 0)


def test_invalid_login(transport: Transport) -> None:
    error = fixture("error_invalid_login")
    bad = Transport(transport.settings.model_copy(update={"token_secret": SecretStr("wrong")}))
    answer = send(bad, error["request"])
    assert answer.status_code == 401
    assert answer.json() == error["response"]["body"]
    bad.close()


def test_suiteql_answers_as_documented(transport: Transport) -> None:
    query = fixture("suiteql_query")
    answer = send(transport, query["request"])
    assert answer.status_code == 200, answer.text
    body, documented = answer.json(), query["response"]["body"]
    assert body["items"] == documented["items"]
    for key in ("count", "hasMore", "offset", "totalResults"):
        assert body[key] == documented[key], key
    assert {link["rel"] for link in documented["links"]} <= {link["rel"] for link in body["links"]}


# ---- the connector parses the documented answers (no emulator involved) -----------------


def test_connector_parses_a_documented_suiteql_page() -> None:
    body = fixture("suiteql_query")["response"]["body"]
    items, last = list(body["items"]), not body["hasMore"]
    assert last
    with pytest.raises(PermanentError, match="dateCreated") as raised:
        plain_row(OBJECTS["customer"], items[0])  # a display-format datetime is refused
    assert (raised.value.record_id, raised.value.field) == ("107", "dateCreated")
    parsed = plain_row(OBJECTS["customer"], {**items[0], "datecreated": items[0]["created"]})
    assert parsed["dateCreated"] == "2024-03-14T14:05:00+00:00"
    assert parsed["companyName"] == "Wolfe Electronics"


def test_connector_parses_documented_errors_and_writes() -> None:
    error = fixture("error_invalid_login")["response"]
    parsed = classify(httpx.Response(error["status"], json=error["body"]))
    assert isinstance(parsed, AuthError) and parsed.vendor_code == "INVALID_LOGIN"
    assert "Login Audit Trail" in str(parsed)
    for name in ("create_customer_with_external_id", "upsert_customer_by_external_id"):
        location = fixture(name)["response"]["headers"]["Location"].replace("{id}", "107")
        assert location_id(location) == "107"


def test_connector_parses_a_documented_collection_page() -> None:
    body = fixture("collection_paging_customer")["response"]["body"]
    rows = [plain_row(OBJECTS["customer"], item) for item in body["items"]]
    assert [r["id"] for r in rows] == ["107", "108"] and body["hasMore"] is True


def test_soap_upsertlist_as_documented() -> None:
    """The upsertList page's request, against an account without subsidiaries (the example
    names none), answered one writeResponse per record, which the connector parses."""
    doc = fixture("soap_upsertlist_customers")
    request = doc["request"]
    with NetSuiteEmulator() as emu:
        sender = Transport(settings_for(emu))
        try:
            body = request["body_xml"].replace("{passport}", passport(sender))
            answer = sender.client.post(
                request["path"], content=body.encode(), headers=request["headers"]
            )
        finally:
            sender.close()
        assert answer.status_code == doc["response"]["status"], answer.text
        root = ET.fromstring(answer.content)
        got = []
        for write in (e for e in root.iter() if e.tag.endswith("}writeResponse")):
            status = next(e for e in write if e.tag.endswith("}status"))
            ref = next(e for e in write if e.tag.endswith("}baseRef"))
            assert (ref.get("internalId") or "").isdigit()
            got.append(
                {
                    "isSuccess": status.get("isSuccess"),
                    "externalId": ref.get("externalId"),
                    "type": ref.get("type"),
                }
            )
        assert got == doc["response"]["write_responses"]
        written = parse_answer(answer, 2)
        assert all(w.error is None and w.record_id for w in written)
        stored = emu.records.get("customer", "eid:ext2")
        assert (stored["companyName"], stored["entityId"]) == ("XYZ, Inc. 1", "XYZ Inc 1")
