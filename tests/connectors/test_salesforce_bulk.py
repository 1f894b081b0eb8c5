"""Initial loads through Bulk API 2.0: same records as the REST path, far fewer calls."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conformance import drain

from pssync.connectors.errors import PermanentError
from pssync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from pssync.sandbox.firm import generate_firm
from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration
OBJECTS = ("Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "User")


@functools.cache
def view() -> dict[str, list[dict[str, Any]]]:
    return generate_firm("small").views["salesforce"]


@pytest.fixture(scope="module")
def org() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(id_seed=3) as emu:
        assert isinstance(emu, SalesforceEmulator)
        emu.seed(view())
        yield emu


def connector(emu: SalesforceEmulator, **overrides: Any) -> SalesforceConnector:
    assert emu.tls is not None
    creds = emu.credentials()
    values: dict[str, Any] = {
        "base_url": creds["instance_url"],
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "ca_file": str(emu.tls.ca_file),
        "bulk_poll_seconds": 0.0,
    }
    return SalesforceConnector(SalesforceSettings.model_validate(values | overrides))


def calls(emu: SalesforceEmulator) -> dict[str, int]:
    answer = httpx.get(f"{emu.base_url}/__admin/requests", verify=False)
    return dict(answer.raise_for_status().json())


def reset(emu: SalesforceEmulator) -> None:
    httpx.delete(f"{emu.base_url}/__admin/requests", verify=False).raise_for_status()


def data(records: list[Any]) -> dict[str, dict[str, Any]]:
    """Salesforce keeps no empty strings (a blank text field is null), so neither counts."""
    return {r.id: {k: v for k, v in r.data.items() if v not in (None, "")} for r in records}


@pytest.mark.parametrize("obj", OBJECTS)
def test_bulk_and_rest_read_the_same_records(org: SalesforceEmulator, obj: str) -> None:
    rest = drain(connector(org, bulk_threshold=None).snapshot(obj))[0]
    bulk = drain(connector(org, bulk_threshold=1).snapshot(obj))[0]
    assert len(rest) > 0 and data(bulk) == data(rest)
    assert {r.id: r.modified_at for r in bulk} == {r.id: r.modified_at for r in rest}


def test_initial_load_goes_bulk_above_the_threshold_and_resumes_by_rest(
    org: SalesforceEmulator,
) -> None:
    lines = len(view()["OpportunityLineItem"])
    conn = connector(org, bulk_threshold=lines, bulk_page_records=lines // 2 + 1)
    reset(org)
    records, cursor, pages = drain(conn.changes("OpportunityLineItem", None))
    seen = calls(org)
    assert len(records) == lines and pages == 2 and cursor is not None  # two results calls
    # One Composite call for every object's describe, recordCount, create job, one poll, two
    # result pages (and the login): no describe call per object.
    api_calls = {key: n for key, n in seen.items() if "/services/data/" in key}
    assert not any(key.endswith("/describe/") for key in api_calls), seen
    assert seen.get("POST /services/data/v59.0/composite") == 1, seen
    assert sum(api_calls.values()) == 6, seen
    assert seen.get("POST /services/data/v59.0/jobs/query") == 1
    assert drain(connector(org).changes("OpportunityLineItem", cursor))[0] == []
    reset(org)
    small = drain(conn.changes("Account", None))[0]
    assert len(small) == len(view()["Account"])
    assert not any("jobs/query" in key for key in calls(org))  # below the threshold: REST


def test_bulk_pages_carry_a_cursor_only_at_the_end(org: SalesforceEmulator) -> None:
    conn = connector(org, bulk_threshold=1, bulk_page_records=100)
    pages = list(conn.changes("Contact", None))
    assert len(pages) > 1
    assert all(p.cursor is None and not p.done for p in pages[:-1])
    assert pages[-1].cursor is not None and pages[-1].done


def test_one_results_call_is_handed_out_in_pages_of_page_size(org: SalesforceEmulator) -> None:
    lines = len(view()["OpportunityLineItem"])
    conn = connector(org, bulk_threshold=1, page_size=200)
    reset(org)
    pages = list(conn.changes("OpportunityLineItem", None))
    assert [len(p.records) for p in pages[:-1]] == [200] * (len(pages) - 1)
    assert sum(len(p.records) for p in pages) == lines and len(pages) == -(-lines // 200)
    results = sum(n for key, n in calls(org).items() if key.endswith("/results"))
    assert results == 1
    assert all(p.cursor is None and not p.done for p in pages[:-1])
    assert pages[-1].cursor is not None and pages[-1].done


def test_an_expired_session_during_a_bulk_read_logs_in_again(org: SalesforceEmulator) -> None:
    conn = connector(org, bulk_threshold=1, bulk_page_records=50)
    reset(org)
    pages = conn.changes("Contact", None)
    first = next(pages)
    org.expire_sessions()
    rest = list(pages)
    ids = {r.id for r in first.records} | {r.id for p in rest for r in p.records}
    assert len(ids) == len(view()["Contact"]) and rest[-1].cursor is not None
    seen = calls(org)
    assert seen.get("POST /services/oauth2/token") == 2  # the first login, and one more
    assert seen.get("POST /services/data/v59.0/jobs/query") == 2  # the job, run anew


def test_every_object_through_bulk_costs_three_calls_a_job_and_one_for_metadata(
    org: SalesforceEmulator,
) -> None:
    """``bulk_threshold: 0``: no Record Count call; each job is create, one poll and one
    results page; the six describes travel in one Composite call (one call of the limits)."""
    conn = connector(org, bulk_threshold=0)
    reset(org)
    for obj in OBJECTS:
        assert drain(conn.changes(obj, None))[0]
    seen = calls(org)
    api_calls = {key: n for key, n in seen.items() if "/services/data/" in key}
    assert "GET /services/data/v59.0/limits/recordCount" not in api_calls, seen
    assert seen.get("POST /services/data/v59.0/jobs/query") == len(OBJECTS)
    assert sum(api_calls.values()) == 1 + 3 * len(OBJECTS), seen


def test_an_object_the_org_lacks_fails_alone_after_the_composite_describe(
    org: SalesforceEmulator,
) -> None:
    conn = connector(org, bulk_threshold=None)
    reset(org)
    assert conn.describe("Account").fields
    with pytest.raises(PermanentError):
        conn.describe("NoSuchObject__c")
    seen = calls(org)
    assert seen.get("POST /services/data/v59.0/composite") == 1, seen
    assert seen.get("GET /services/data/v59.0/sobjects/NoSuchObject__c/describe/") == 1, seen
