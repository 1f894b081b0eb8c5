"""Batch writes through SuiteTalk SOAP upsertList, against the emulator's SOAP endpoint.

NetSuite's REST record API writes one record a request; SOAP's upsertList takes a list keyed by
external ID and answers one writeResponse per record. The connector uses it for batches of at
least `soap_batch_threshold` records (TBA only), one call per `soap_batch_size`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conformance import drain
from pydantic import SecretStr
from test_netsuite import settings_for

from pssync.connectors.base import Outcome
from pssync.connectors.errors import AuthError
from pssync.connectors.netsuite import NetSuiteConnector
from pssync.sandbox.netsuite import NetSuiteEmulator

pytestmark = pytest.mark.integration
SOAP = "POST /services/NetSuitePort_2024_2"
PUT = "PUT /services/rest/record/v1/"


@pytest.fixture(scope="module")
def ns() -> Iterator[NetSuiteEmulator]:
    with NetSuiteEmulator() as emu:
        emu.seed({"subsidiary": [{"id": "2", "name": "Meridian Advisory Inc."}]})
        yield emu


def seen(emulator: NetSuiteEmulator) -> dict[str, int]:
    found = httpx.get(f"{emulator.base_url}/__admin/requests").raise_for_status().json()
    httpx.delete(f"{emulator.base_url}/__admin/requests").raise_for_status()
    return dict(found)


def puts(counts: dict[str, int]) -> int:
    return sum(n for key, n in counts.items() if key.startswith(PUT))


def customers(tag: str, n: int) -> list[dict[str, Any]]:
    return [
        {"externalId": f"{tag}-{i}", "companyName": f"{tag} {i}", "subsidiary": {"id": "2"}}
        for i in range(n)
    ]


def test_a_large_batch_costs_one_call_per_soap_batch(ns: NetSuiteEmulator) -> None:
    conn = NetSuiteConnector(settings_for(ns, write_batch_size=1000))
    seen(ns)
    results = conn.upsert("customer", "externalId", customers("BULK", 1000))
    assert [r.outcome for r in results] == [Outcome.CREATED] * 1000
    counts = seen(ns)
    assert counts[SOAP] == 5 and puts(counts) == 0  # 200 a call
    read = {r.data["externalId"]: r for r in drain(conn.snapshot("customer"))[0]}
    assert all(read[f"BULK-{i}"].id == r.id for i, r in enumerate(results))
    assert read["BULK-7"].data["companyName"] == "BULK 7"


def test_updates_references_custom_fields_and_nulls_travel(ns: NetSuiteEmulator) -> None:
    conn = NetSuiteConnector(settings_for(ns, soap_batch_threshold=2, detect_unchanged=False))
    (parent,) = conn.upsert("customer", "externalId", customers("PARENT", 1))
    jobs = [
        {
            "externalId": f"JOB-{i}",
            "companyName": f"Project {i}",
            "parent": {"externalId": "PARENT-0"},
            "subsidiary": {"id": "2"},
            "startDate": "2026-03-02",
            "custentity_billing_rule": "milestone",
        }
        for i in range(3)
    ]
    assert {r.outcome for r in conn.upsert("job", "externalId", jobs)} == {Outcome.CREATED}
    jobs[1]["companyName"], jobs[1]["custentity_billing_rule"] = "Project one", None
    again = conn.upsert("job", "externalId", jobs)
    assert {r.outcome for r in again} == {Outcome.UPDATED}
    read = {r.data["externalId"]: r.data for r in drain(conn.snapshot("job"))[0]}
    assert read["JOB-1"]["companyName"] == "Project one"
    assert read["JOB-0"]["parent"] == parent.id and read["JOB-0"]["startDate"] == "2026-03-02"
    rows = conn.transport.suiteql(
        "SELECT externalid, custentity_billing_rule FROM job WHERE externalid LIKE 'JOB-%'",
        limit=10,
    )["items"]
    custom = {r["externalid"]: r.get("custentity_billing_rule") for r in rows}
    assert custom == {"JOB-0": "milestone", "JOB-1": None, "JOB-2": "milestone"}


def test_a_refused_record_fails_alone(ns: NetSuiteEmulator) -> None:
    conn = NetSuiteConnector(settings_for(ns, soap_batch_threshold=2))
    batch = customers("MIX", 3)
    del batch[1]["companyName"]
    results = conn.upsert("customer", "externalId", batch)
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.FAILED, Outcome.CREATED]
    error = results[1].error
    assert error is not None and error.record_id == "MIX-1" and "Company Name" in str(error)


def test_bad_passport_is_an_auth_error(ns: NetSuiteEmulator) -> None:
    settings = settings_for(ns, soap_batch_threshold=1)
    settings = settings.model_copy(update={"token_secret": SecretStr("wrong")})
    with pytest.raises(AuthError):
        NetSuiteConnector(settings).upsert("customer", "externalId", customers("NOPE", 1))
    assert ns.verifier.rejections["bad signature"] >= 1


def test_without_a_threshold_every_record_is_a_rest_put(ns: NetSuiteEmulator) -> None:
    conn = NetSuiteConnector(settings_for(ns, soap_batch_threshold=None))
    seen(ns)
    conn.upsert("customer", "externalId", customers("REST", 150))
    counts = seen(ns)
    assert puts(counts) == 150 and SOAP not in counts
