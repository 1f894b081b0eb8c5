"""Contract fixtures: SAP's own documented exchanges, replayed against the emulator and read
through the connector (tests/fixtures/vendors/sap_s4/, each naming its source page).

The check does not depend on our own emulator being right: the requests and the answers are
SAP's. The emulator must give SAP's answers; the connector (and pyodata under it) must read
them, and must be able to send SAP's documented bodies itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from pyodata.v2.service import ODataHttpResponse, decode_multipart

from pssync.connectors.base import Outcome
from pssync.connectors.errors import PermanentError
from pssync.connectors.sap_s4 import SapS4Connector, SapS4Settings
from pssync.connectors.sap_s4.transport import classify_response
from pssync.sandbox.sap_s4 import SapS4Emulator

pytestmark = pytest.mark.integration
FIXTURES = sorted((Path(__file__).parents[2] / "fixtures/vendors/sap_s4").glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads(path.read_text())
    return fixture


def contains(actual: Any, expected: Any) -> bool:
    """`expected` is a part of `actual`: dict keys recursively, lists item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(contains(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def _session(emulator: SapS4Emulator) -> requests.Session:
    http = requests.Session()
    http.auth = (emulator.username, emulator.password)
    url = emulator.service_url("API_BUSINESS_PARTNER")
    http.headers["x-csrf-token"] = http.head(url, headers={"x-csrf-token": "Fetch"}).headers[
        "x-csrf-token"
    ]
    return http


def _send(
    http: requests.Session, emulator: SapS4Emulator, request: dict[str, Any], etag: str | None
) -> requests.Response:
    headers = {
        k: (etag or "") if v == "{etag}" else v for k, v in request.get("headers", {}).items()
    }
    data: bytes | None = None
    if "raw_lines" in request:
        data = "\r\n".join(request["raw_lines"]).encode()
    elif "body" in request:
        data = json.dumps(request["body"]).encode()
    return http.request(
        request["method"], emulator.base_url + request["path"], data=data, headers=headers
    )


def _part_statuses(response: requests.Response) -> list[Any]:
    """The status of each part of a $batch answer, as pyodata (the connector's client) reads
    it: a changeset's answer is the list of its requests' statuses, or one status when SAP
    answered the whole changeset with one error."""
    out: list[Any] = []
    for part in decode_multipart(response.text, response.headers["content-type"]):
        if isinstance(part[0], list):
            out.append([ODataHttpResponse.from_string(p[0]).status_code for p in part])
        else:
            out.append(ODataHttpResponse.from_string(part[0]).status_code)
    return out


def _connector(emulator: SapS4Emulator) -> SapS4Connector:
    return SapS4Connector(
        SapS4Settings(
            base_url=emulator.base_url, username=emulator.username, password=emulator.password
        )
    )


def _rows(conn: SapS4Connector, obj: str, where: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [r.data for page in conn.snapshot(obj) for r in page.records]
    return [r for r in rows if all(r.get(k) == v for k, v in where.items())]


def test_at_least_five_fixtures_each_naming_its_source() -> None:
    assert len(FIXTURES) >= 5
    for path in FIXTURES:
        source = _load(path)["source"]
        assert source["url"].startswith("https://") and source["title"] and source["typed"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_emulator_gives_sap_documented_answers_and_the_connector_reads_them(path: Path) -> None:
    fixture = _load(path)
    with SapS4Emulator() as emulator:
        emulator.seed(fixture.get("seed", {}))
        http = _session(emulator)
        etag: str | None = None
        for step in fixture["exchange"]:
            response = _send(http, emulator, step["request"], etag)
            expected = step["response"]
            assert response.status_code == expected["status"], response.text[:500]
            for header in expected.get("headers", []):
                assert response.headers.get(header), header
            if "body" in expected:
                body = response.json()
                assert contains(body, expected["body"]), json.dumps(body)[:1500]
                if "exact_count" in expected:
                    assert len(body["d"]["results"]) == expected["exact_count"]
                if "error" in expected["body"]:  # the connector's reading of SAP's refusal
                    error = classify_response(response, record_id="r1")
                    assert isinstance(error, PermanentError)
                    assert error.vendor_code == expected["body"]["error"]["code"]
                    assert error.message == expected["body"]["error"]["message"]["value"]
            if "parts" in expected:
                assert _part_statuses(response) == expected["parts"]
            etag = response.headers.get("etag", etag)
        read = fixture.get("connector", {}).get("read")
        if read:
            conn = _connector(emulator)
            rows = _rows(conn, read["object"], read["where"])
            assert len(rows) == read.get("count", 1)
            assert contains(rows[0], read["expect"]), rows[0]


@pytest.mark.parametrize(
    "path",
    [p for p in FIXTURES if "upsert" in _load(p).get("connector", {})],
    ids=lambda p: p.stem,
)
def test_connector_sends_sap_documented_bodies(path: Path) -> None:
    """The documented request body, upserted by the connector on a fresh system, lands as
    SAP's own example request makes it land."""
    fixture = _load(path)
    read, upsert = fixture["connector"]["read"], fixture["connector"]["upsert"]
    body = dict(fixture["exchange"][-1]["request"]["body"])
    if "external_id" in upsert:  # partners are found again by their external-system ID
        body[upsert["external_id_field"]] = upsert["external_id"]
    with SapS4Emulator() as emulator:
        conn = _connector(emulator)
        (result,) = conn.upsert(upsert["object"], upsert["external_id_field"], [body])
        assert result.outcome is Outcome.CREATED, result.error
        rows = _rows(conn, read["object"], read["where"])
        assert len(rows) == 1 and contains(rows[0], read["expect"]), rows
