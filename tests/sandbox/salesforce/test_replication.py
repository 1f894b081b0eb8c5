"""getDeleted / getUpdated windows and injected row locks, as Salesforce documents them.

REST API Developer Guide "sObject Get Deleted" and SOAP API Developer Guide "getDeleted()":
results go back 15 days at most (getUpdated: 30), the start must precede the end by more than one
minute, and both are read to the minute; otherwise ``INVALID_REPLICATION_DATE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration


class Clock:
    """A hand-moved clock for the emulator (every stamp and every window follows it)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 5, 20, 10, 15, 30, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def org(clock: Clock) -> Iterator[SalesforceEmulator]:
    running = SalesforceEmulator(id_seed=11, clock=clock)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def sf(org: SalesforceEmulator, connect: Callable[..., Salesforce]) -> Salesforce:
    return connect(org)


def https(emulator: SalesforceEmulator) -> requests.Session:
    assert emulator.tls is not None
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulator.tls.ca_file)
    return session


def _code(exc: SalesforceMalformedRequest) -> str:
    content = exc.content
    assert isinstance(content, list)
    return str(content[0]["errorCode"])


def test_a_window_of_a_minute_or_less_is_refused(sf: Salesforce, clock: Clock) -> None:
    end = clock.now
    for span in (dt.timedelta(seconds=2), dt.timedelta(minutes=1)):
        with pytest.raises(SalesforceMalformedRequest) as refused:
            sf.Account.deleted(end - span, end)
        assert _code(refused.value) == "INVALID_REPLICATION_DATE"
    assert "deletedRecords" in sf.Account.deleted(end - dt.timedelta(minutes=1, seconds=1), end)


def test_get_deleted_goes_back_15_days_get_updated_30(sf: Salesforce, clock: Clock) -> None:
    end = clock.now
    midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Account.deleted(midnight - dt.timedelta(days=15, minutes=1), end)
    assert _code(refused.value) == "INVALID_REPLICATION_DATE"
    assert "deletedRecords" in sf.Account.deleted(midnight - dt.timedelta(days=15), end)
    assert "ids" in sf.Account.updated(end - dt.timedelta(days=29), end)
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.updated(midnight - dt.timedelta(days=31), end)


def test_deletions_are_reported_to_the_minute(sf: Salesforce, clock: Clock) -> None:
    start = clock.now - dt.timedelta(minutes=5)
    gone = sf.Account.create({"Name": "Short-lived"})["id"]
    sf.Account.delete(gone)
    deleted_at = clock.now
    same_minute = sf.Account.deleted(start, clock.now)
    assert gone not in [r["id"] for r in same_minute["deletedRecords"]]
    assert same_minute["latestDateCovered"] == deleted_at.strftime("%Y-%m-%dT%H:%M:00.000+0000")
    clock.advance(minutes=1)
    found = sf.Account.deleted(start, clock.now)["deletedRecords"]
    assert [(r["id"], r["deletedDate"][:19]) for r in found if r["id"] == gone] == [
        (gone, deleted_at.strftime("%Y-%m-%dT%H:%M:%S"))
    ]


def test_armed_row_locks_fail_writes_like_salesforce(
    org: SalesforceEmulator, sf: Salesforce
) -> None:
    session = https(org)
    admin = f"{org.base_url}/_emulator/locks"
    assert session.put(admin, json={"count": 1, "object": "Account"}).json()["remaining"] == 1
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Account.create({"Name": "Locked"})
    assert _code(refused.value) == "UNABLE_TO_LOCK_ROW"
    assert sf.Account.create({"Name": "Free again"})["success"] is True
    session.put(admin, json={"count": 1})
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "Name": "First"},
            {"attributes": {"type": "Account"}, "Name": "Second"},
        ],
    }
    answers = sf.restful("composite/sobjects", method="POST", json=body)
    assert answers[0]["success"] is False
    assert answers[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert answers[1]["success"] is True
    assert session.get(admin).json() == {"remaining": 0, "object": None}
