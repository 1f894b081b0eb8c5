"""Contract fixtures: Kantata's own API reference examples, replayed on the emulator and parsed
by the connector (`tests/fixtures/vendors/kantata/`, each naming its source page).

The emulator is seeded with the objects the example presupposes (its ``given`` plus every object
its GET answers show) and must answer each request with the example's status and at least the
example's content: the same ``count`` and ``results``, and every field the example shows with
its value (datetimes compared as instants). The connector is fed the example answers directly,
without the emulator, and must read the records, their order and their associations from them:
the check that does not depend on our own emulator.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.connectors.kantata import KantataConnector, KantataSettings
from pssync.connectors.kantata.transport import objects_of
from pssync.sandbox.kantata import KantataEmulator

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures/vendors/kantata"
NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))
READ_BY_CONNECTOR = ("workspaces", "time_entries", "resource_requests")


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def contains(actual: Any, expected: Any, where: str = "") -> None:
    """`actual` holds everything `expected` shows (extra fields allowed)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in expected.items():
            assert key in actual, f"{where}: no {key!r} in {sorted(actual)}"
            contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for n, (a, e) in enumerate(zip(actual, expected, strict=True)):
            contains(a, e, f"{where}[{n}]")
    elif _instant(expected) is not None and _instant(actual) is not None:
        assert _instant(actual) == _instant(expected), f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def seed_of(fixture: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The objects the example presupposes: `given` and every object its GET answers show."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    sources = [fixture.get("given") or {}]
    for exchange in fixture["exchanges"]:
        body = exchange["response"]["body"]
        if exchange["request"]["method"] == "GET" and exchange["response"]["status"] == 200:
            sources.append({k: list(v.values()) for k, v in body.items() if isinstance(v, dict)})
    for source in sources:
        for key, rows in source.items():
            if key == "meta":
                continue
            for row in rows:
                current = found.setdefault(key, {}).setdefault(str(row["id"]), {})
                current.update({k: v for k, v in row.items() if k not in current})
    return {key: list(rows.values()) for key, rows in found.items()}


@pytest.mark.parametrize("name", NAMES)
def test_the_emulator_reproduces_the_reference_example(name: str) -> None:
    fixture = load(name)
    assert fixture["source"].startswith("http"), "each fixture names its source page"
    with KantataEmulator() as emulator:
        emulator.seed(seed_of(fixture))
        headers = {"Authorization": f"Bearer {emulator.token}"}
        for exchange in fixture["exchanges"]:
            request, expected = exchange["request"], exchange["response"]
            answer = httpx.request(
                request["method"],
                f"{emulator.base_url}/api/v1{request['path']}",
                params=request.get("params") or {},
                json=request.get("body"),
                headers=headers,
                timeout=10,
            )
            where = f"{name}: {request['method']} {request['path']} {request.get('params')}"
            assert answer.status_code == expected["status"], f"{where}: {answer.text}"
            contains(answer.json(), expected["body"], where)


def fed(fixture: dict[str, Any]) -> KantataConnector:
    """A connector whose every GET is answered from the fixture, by path and request order."""
    conn = KantataConnector(
        KantataSettings.model_validate({"base_url": "https://kantata.invalid", "token": "t"})
    )
    answers = [
        x["response"]["body"]
        for x in fixture["exchanges"]
        if x["request"]["method"] == "GET" and x["response"]["status"] == 200
    ]

    def call(method: str, path: str, **_: Any) -> dict[str, Any]:
        for body in answers:
            if path.strip("/").removesuffix(".json") in body:
                return dict(json.loads(json.dumps(body)))
        raise AssertionError(f"no example answer for {method} {path}")

    conn.transport.call = call  # type: ignore[method-assign]
    return conn


@pytest.mark.parametrize("name", NAMES)
def test_the_connector_parses_the_reference_example(name: str) -> None:
    fixture = load(name)
    conn = fed(fixture)
    for exchange in fixture["exchanges"]:
        body = exchange["response"]["body"]
        key = exchange["request"]["path"].strip("/").split("/")[0].removesuffix(".json")
        if exchange["response"]["status"] != 200:
            continue
        order = [str(r["id"]) for r in body["results"]]
        assert [str(o["id"]) for o in objects_of(body, key)] == order
        if key in READ_BY_CONNECTOR and exchange["request"]["method"] == "GET":
            records = [r for page in conn.snapshot(key) for r in page.records]
            assert [r.id for r in records] == [
                str(o["id"]) for o in objects_of(answers_of(conn, key), key)
            ]
            for record in records:
                assert record.modified_at is None or record.modified_at.tzinfo is not None
            if key == "resource_requests":
                data = records[0].data
                assert data["resource.workspace_id"] == "41" and data["resource.role_name"]
            break
    if name == "external-references-list.json":
        conn.external_ids.refresh("TimeEntry")
        assert conn.external_ids.record_id("TimeEntry", "te-2026-0001") == "700"


def answers_of(conn: KantataConnector, key: str) -> dict[str, Any]:
    return conn.transport.call("GET", f"/{key}.json")
