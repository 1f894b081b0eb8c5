"""The Salesforce connector's replication rules against an emulator on a hand-moved clock.

getDeleted windows (15 days back, more than a minute long, read to the minute), the overlap of
incremental reads (a transaction committing late is still read, nothing else twice), and the
retry of records refused with UNABLE_TO_LOCK_ROW.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conformance import drain

from pssync.connectors.base import Outcome
from pssync.connectors.errors import RetriableError
from pssync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from pssync.sandbox.salesforce import SalesforceEmulator

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 5, 20, 10, 15, 30, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def org(clock: Clock) -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(id_seed=5, clock=clock) as emu:
        yield emu


def connector(emu: SalesforceEmulator, clock: Clock, **overrides: Any) -> SalesforceConnector:
    assert emu.tls is not None
    creds = emu.credentials()
    values: dict[str, Any] = {
        "base_url": creds["instance_url"],
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "ca_file": str(emu.tls.ca_file),
        "lock_retry_wait": 0.0,
    }
    conn = SalesforceConnector(SalesforceSettings.model_validate(values | overrides))
    conn.clock = clock
    return conn


def delete_account(conn: SalesforceConnector, key: str) -> str:
    (made,) = conn.upsert("Account", "External_Id__c", [{"External_Id__c": key, "Name": key}])
    assert made.id is not None
    conn.call(lambda sf: sf.Account.delete(made.id))
    return made.id


def test_deletes_wait_for_a_window_longer_than_a_minute(
    org: SalesforceEmulator, clock: Clock
) -> None:
    conn = connector(org, clock)
    _, cursor = conn.deletes("Account", None)
    assert cursor is not None
    gone = delete_account(conn, "DEL-1")
    clock.advance(seconds=20)
    assert conn.deletes("Account", cursor) == ([], cursor)  # too soon: nothing asked
    clock.advance(minutes=2)
    found, after = conn.deletes("Account", cursor)
    assert [d.id for d in found] == [gone] and found[0].deleted_at.tzinfo is not None
    assert after is not None and after > cursor
    clock.advance(minutes=2)
    assert gone not in [d.id for d in conn.deletes("Account", after)[0]]
    assert conn.delete_gaps == []


def test_a_cursor_older_than_15_days_reads_what_is_left_and_names_the_gap(
    org: SalesforceEmulator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    conn = connector(org, clock)
    old_cursor = (clock.now - dt.timedelta(days=40)).isoformat()
    gone = delete_account(conn, "DEL-2")
    clock.advance(minutes=2)
    with caplog.at_level(logging.WARNING, logger="pssync.connectors.salesforce.deletes"):
        found, after = conn.deletes("Account", old_cursor)
    assert [d.id for d in found] == [gone] and after is not None
    (gap,) = conn.delete_gaps
    assert gap.object == "Account" and gap.since == dt.datetime.fromisoformat(old_cursor)
    assert dt.timedelta(days=15) < clock.now - gap.until <= dt.timedelta(days=16)
    assert "full reconciliation" in caplog.text


def test_a_transaction_committing_late_is_read_through_the_overlap(
    org: SalesforceEmulator, clock: Clock
) -> None:
    conn = connector(org, clock)
    conn.upsert("Account", "External_Id__c", [{"External_Id__c": "LATE-0", "Name": "Early"}])
    clock.advance(minutes=1)
    _, cursor, _ = drain(conn.changes("Account", None))
    assert cursor is not None
    # Stamped before the newest record the read above saw, committed after that read.
    stamped = (clock.now - dt.timedelta(minutes=1, seconds=30)).isoformat()
    org.seed({"Account": [{"Name": "Late", "External_Id__c": "LATE-1", "SystemModstamp": stamped}]})
    clock.advance(seconds=30)
    records, after, _ = drain(connector(org, clock).changes("Account", cursor))
    assert [r.data["External_Id__c"] for r in records] == ["LATE-1"]
    assert drain(connector(org, clock).changes("Account", after))[0] == []


def test_no_overlap_misses_the_late_commit(org: SalesforceEmulator, clock: Clock) -> None:
    conn = connector(org, clock, read_overlap_seconds=0)
    conn.upsert("Account", "External_Id__c", [{"External_Id__c": "LATE-2", "Name": "Early"}])
    clock.advance(minutes=1)
    _, cursor, _ = drain(conn.changes("Account", None))
    stamped = (clock.now - dt.timedelta(minutes=1, seconds=30)).isoformat()
    org.seed({"Account": [{"Name": "Late", "External_Id__c": "LATE-3", "SystemModstamp": stamped}]})
    assert drain(conn.changes("Account", cursor))[0] == []


def test_records_refused_for_a_lock_are_sent_again(org: SalesforceEmulator, clock: Clock) -> None:
    conn = connector(org, clock, detect_unchanged=False)
    admin = f"{org.base_url}/_emulator/locks"
    httpx.put(admin, json={"count": 2, "object": "Account"}, verify=False).raise_for_status()
    rows = [{"External_Id__c": f"LOCK-{i}", "Name": f"Locked {i}"} for i in range(3)]
    results = conn.upsert("Account", "External_Id__c", rows)
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3
    assert httpx.get(admin, verify=False).json()["remaining"] == 0
    never = connector(org, clock, detect_unchanged=False, lock_retries=0)
    httpx.put(admin, json={"count": 1, "object": "Account"}, verify=False).raise_for_status()
    (refused,) = never.upsert("Account", "External_Id__c", [{"External_Id__c": "LOCK-9"}])
    assert refused.outcome is Outcome.FAILED and refused.error is not None
    assert refused.error.vendor_code == "UNABLE_TO_LOCK_ROW"


def test_a_call_refused_for_a_lock_is_retriable(org: SalesforceEmulator, clock: Clock) -> None:
    conn = connector(org, clock)
    admin = f"{org.base_url}/_emulator/locks"
    httpx.put(admin, json={"count": 1, "object": "Account"}, verify=False).raise_for_status()
    with pytest.raises(RetriableError) as locked:
        conn.call(lambda sf: sf.Account.create({"Name": "Single"}))
    assert locked.value.vendor_code == "UNABLE_TO_LOCK_ROW"
