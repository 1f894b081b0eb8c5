"""Contract fixtures: Microsoft's own Dataverse Web API examples, replayed on the emulator and
parsed by the connector (`tests/fixtures/vendors/dynamics/`, each naming its source page).

The emulator is seeded with what the example presupposes (``given``) and must answer each
request with the example's status, headers and body: every field the example shows, with its
value, except the ``generated`` ones (GUIDs, etags, stamps the server makes), which must be
present. ``[Organization URI]`` stands for the environment's URL. The connector is fed the
example answers directly, without the emulator, and must read them: rows and their IDs from a
query, the new row's ID from ``OData-EntityId``, the error class and code from an error, a 412
to a create-only upsert as "the key is taken" and a 404 to an update-only one as "gone".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.connectors.dynamics import DynamicsConnector, DynamicsSettings
from pssync.connectors.dynamics.connector import record
from pssync.connectors.dynamics.objects import CATALOG
from pssync.connectors.errors import PermanentError
from pssync.connectors.kit.catalog import ObjectSpec
from pssync.connectors.kit.upsert import KeyGoneError, KeyTakenError
from pssync.sandbox.dynamics import DynamicsEmulator

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures/vendors/dynamics"
NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))
ORG = "https://contoso.crm.dynamics.com"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def at(org: str, value: Any) -> Any:
    """The example with ``[Organization URI]`` replaced by `org`."""
    return json.loads(json.dumps(value).replace("[Organization URI]", org))


def contains(actual: Any, expected: Any, generated: set[str], where: str = "") -> None:
    """`actual` holds everything `expected` shows (generated values: only present)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in expected.items():
            assert key in actual, f"{where}: no {key!r} in {sorted(actual)}"
            if key not in generated:
                contains(actual[key], value, generated, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for n, (a, e) in enumerate(zip(actual, expected, strict=True)):
            contains(a, e, generated, f"{where}[{n}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def settings(base_url: str, **more: Any) -> DynamicsSettings:
    values = {"base_url": base_url, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
    return DynamicsSettings.model_validate(values | more)


@pytest.mark.parametrize("name", NAMES)
def test_the_emulator_reproduces_the_reference_example(name: str) -> None:
    fixture = load(name)
    assert fixture["source"].startswith("https://learn.microsoft.com/"), "name the source page"
    generated = set(fixture.get("generated", []))
    with DynamicsEmulator() as emulator:
        emulator.seed(fixture.get("given") or {})
        token = httpx.post(
            emulator.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": emulator.client_id,
                "client_secret": emulator.client_secret,
                "scope": f"{emulator.base_url}/.default",
            },
        ).json()["access_token"]
        for exchange in fixture["exchanges"]:
            request, expected = exchange["request"], at(emulator.base_url, exchange["response"])
            answer = httpx.request(
                request["method"],
                emulator.base_url + request["path"],
                params=request.get("params") or {},
                json=request.get("body"),
                headers={**request.get("headers", {}), "Authorization": f"Bearer {token}"},
                timeout=10,
            )
            where = f"{name}: {request['method']} {request['path']}"
            assert answer.status_code == expected["status"], f"{where}: {answer.text}"
            for header, value in (expected.get("headers") or {}).items():
                assert header in answer.headers, f"{where}: no {header} header"
                if header in generated:
                    assert GUID.search(answer.headers[header]), f"{where}: {header}"
                else:
                    assert answer.headers[header] == value, f"{where}: {header}"
            if "body" in expected:
                contains(answer.json(), expected["body"], generated, where)
            else:
                assert not answer.content, f"{where}: expected no body, got {answer.text}"


def fed(fixture: dict[str, Any]) -> DynamicsConnector:
    """A connector whose every request is answered from the fixture, in order."""
    answers = [at(ORG, x["response"]) for x in fixture["exchanges"]]

    def answer(request: httpx.Request) -> httpx.Response:
        expected = answers.pop(0) if len(answers) > 1 else answers[0]
        return httpx.Response(
            expected["status"], headers=expected.get("headers"), json=expected.get("body")
        )

    conn = DynamicsConnector(settings(ORG))
    conn.transport.oauth.token = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
    conn.transport.client = httpx.Client(
        transport=httpx.MockTransport(answer), base_url=f"{ORG}/api/data/v9.2"
    )
    return conn


def spec_of(path: str) -> ObjectSpec:
    name = path.split("/")[-1].split("(")[0]
    if name in CATALOG.names():
        return CATALOG[name]
    return ObjectSpec(name, f"{name.removesuffix('s')}id", "modifiedon")


@pytest.mark.parametrize("name", NAMES)
def test_the_connector_reads_the_reference_example(name: str) -> None:
    fixture = load(name)
    for exchange in fixture["exchanges"]:
        conn = fed({"exchanges": [exchange]})
        request, response = exchange["request"], at(ORG, exchange["response"])
        spec, status, body = spec_of(request["path"]), response["status"], response.get("body")
        if status == 200:
            records, last = next(conn.pages(spec, request.get("params")))
            assert [r.id for r in records] == [row[spec.id_field] for row in body["value"]]
            assert last == ("@odata.nextLink" not in body)
            assert all("@" not in key for r in records for key in r.data)
        elif status == 201:
            created = record(spec, body)
            assert created.id == body[spec.id_field] and created.data["name"] == "Sample Account"
        elif status == 204:
            new_id = conn.write(spec, "accountnumber", "If-None-Match", "NEW-1", {})
            assert new_id == guid_in(response["headers"]["OData-EntityId"])
        elif status == 412:
            with pytest.raises(KeyTakenError):
                conn.write(spec, "accountid", "If-None-Match", guid_in(request["path"]), {})
        elif status == 404 and request["method"] == "PATCH":
            with pytest.raises(KeyGoneError):
                conn.write(spec, "accountid", "If-Match", guid_in(request["path"]), {})
        else:
            with pytest.raises(PermanentError) as caught:
                drain_first(conn, spec)
            error = body["error"]
            assert (caught.value.status, caught.value.message) == (status, error["message"])
            assert caught.value.vendor_code == (error["code"] or None)


def guid_in(text: str) -> str:
    found = GUID.search(text)
    assert found is not None, f"no GUID in {text!r}"
    return found.group(0)


def drain_first(conn: DynamicsConnector, spec: ObjectSpec) -> None:
    next(conn.pages(spec, None))


def test_a_delta_link_answers_the_deleted_row_as_the_example_does() -> None:
    fixture = load("change-tracking.json")
    first, delta = fixture["exchanges"][0], fixture["delta_exchange"]
    with DynamicsEmulator() as emulator:
        emulator.seed(fixture["given"])
        conn = DynamicsConnector(settings_for_emulator(emulator))
        rows, cursor, _ = drain_changes(conn, None)
        assert [r.id for r in rows] == [first["response"]["body"]["value"][0]["accountid"]]
        token = conn.transport.oauth.token["access_token"]
        gone = rows[0].id
        url = f"{emulator.base_url}/api/data/v9.2/accounts({gone})"
        httpx.delete(url, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        link = json.loads(str(cursor))["delta"]
        answer = httpx.get(link, headers={"Authorization": f"Bearer {token}"}).json()
        expected = at(emulator.base_url, delta["response"]["body"])
        contains(answer, expected, {"@odata.context", "@odata.deltaLink"})
        assert answer["@odata.context"].endswith("/$delta")
        assert "$deltatoken=" in answer["@odata.deltaLink"]
    # The connector reads both example answers: the rows, then the deletion.
    conn = fed({"exchanges": [first, delta]})
    rows, cursor, _ = drain_changes(conn, None)
    assert [r.id for r in rows] == [gone] and not rows[0].deleted and cursor is not None
    fed_delta = fed({"exchanges": [delta]})
    removed, after, _ = drain_changes(fed_delta, cursor)
    assert [(r.id, r.deleted) for r in removed] == [(gone, True)]
    assert after is not None and "919058" in after


def settings_for_emulator(emulator: DynamicsEmulator) -> DynamicsSettings:
    return settings(
        emulator.base_url,
        tenant_id=emulator.tenant_id,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
        token_url=emulator.token_url,
    )


def drain_changes(conn: DynamicsConnector, cursor: str | None) -> tuple[list[Any], Any, int]:
    pages = list(conn.changes("accounts", cursor))
    return [r for p in pages for r in p.records], pages[-1].cursor, len(pages)
