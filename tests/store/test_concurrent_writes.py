"""Concurrent writers of one golden record (issue 14): two transactions that read the same state
and both append used to leave two current versions of one record. Each test runs real writers
(their own engines and connections, in threads) that are held at a barrier until both are inside
their transaction, so both always read the state before either writes."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from pssync.model import Opportunity
from pssync.store import Change, GoldenStore, WriteResult, open_engine
from pssync.store.history import utcnow
from pssync.store.tables import record_version


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def opp(record_id: str, stage: str, amount: str = "1000.00") -> Opportunity:
    return Opportunity.model_validate(
        {
            "id": record_id,
            "account_id": "acc-1",
            "name": f"Deal {record_id}",
            "stage": stage,
            "probability": "70",
            "amount": {"amount": amount, "currency": "USD"},
            "close_date": "2026-06-30",
        }
    )


class MeetingClock:
    """`utcnow`, except that each writer's first reading (inside its first transaction, before
    it reads the current versions) waits until every writer has taken its own."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier
        self.local = threading.local()

    def __call__(self) -> dt.datetime:
        if not getattr(self.local, "met", False):
            self.local.met = True
            self.barrier.wait(timeout=30)
        return utcnow()


@pytest.fixture
def engines(db_url: str) -> Iterator[list[Engine]]:
    made = [open_engine(db_url) for _ in range(2)]
    yield made
    for engine in made:
        engine.dispose()


def race(engines: list[Engine], *writes: Callable[[GoldenStore], WriteResult]) -> list[object]:
    """Run one write per engine at the same time; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(writes))
    results: list[object] = [None] * len(writes)

    def run(i: int) -> None:
        try:
            results[i] = writes[i](GoldenStore(engines[i], clock=MeetingClock(barrier)))
        except (sa.exc.SQLAlchemyError, threading.BrokenBarrierError) as error:
            results[i] = error  # reported by the test's assertion, not swallowed

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def current_versions(engine: Engine) -> Counter[tuple[str, object]]:
    rv = record_version.c
    stmt = sa.select(rv.record_id, rv.valid_from).where(rv.recorded_to.is_(None))
    with engine.connect() as conn:
        return Counter((row.record_id, row.valid_from) for row in conn.execute(stmt))


def test_two_writers_creating_the_same_records_leave_one_current_version_each(
    engines: list[Engine],
) -> None:
    start = utc(2026, 1, 1)
    changes = [Change(opp(f"opp-{i}", "Prospecting"), start, "kantata") for i in range(50)]
    results = race(engines, *[lambda s: s.write(changes)] * 2)
    assert all(isinstance(r, WriteResult) for r in results), results
    written = [r for r in results if isinstance(r, WriteResult)]
    assert sorted((r.created, r.unchanged) for r in written) == [(0, 50), (50, 0)]
    counts = current_versions(engines[0])
    assert len(counts) == 50 and set(counts.values()) == {1}
    assert GoldenStore(engines[0]).counts() == {"Opportunity": 50}


def test_two_writers_updating_one_record_at_different_valid_times_both_land(
    engines: list[Engine],
) -> None:
    GoldenStore(engines[0]).write([Change(opp("opp-1", "Prospecting"), utc(2026, 1, 1), "crm")])
    march = Change(opp("opp-1", "Qualification"), utc(2026, 3, 1), "crm")
    may = Change(opp("opp-1", "Proposal"), utc(2026, 5, 1), "crm")
    results = race(engines, lambda s: s.write([march]), lambda s: s.write([may]))
    assert all(isinstance(r, WriteResult) and r.updated == 1 for r in results), results
    store = GoldenStore(engines[1])
    stages = {
        month: store.get("Opportunity", "opp-1", valid_at=utc(2026, month, 15)).payload["stage"]  # type: ignore[union-attr]
        for month in (1, 3, 5)
    }
    assert stages == {1: "Prospecting", 3: "Qualification", 5: "Proposal"}
    counts = current_versions(engines[0])
    assert sorted(vf for _, vf in counts) == [utc(2026, 1, 1), utc(2026, 3, 1), utc(2026, 5, 1)]
    assert set(counts.values()) == {1}
    assert store.counts() == {"Opportunity": 1}


def test_two_writers_updating_one_record_at_the_same_valid_time_keep_one_current_version(
    engines: list[Engine],
) -> None:
    GoldenStore(engines[0]).write([Change(opp("opp-1", "Prospecting"), utc(2026, 1, 1), "crm")])
    won = Change(opp("opp-1", "Closed Won", "1200.00"), utc(2026, 2, 1), "crm")
    results = race(engines, *[lambda s: s.write([won])] * 2)
    written = [r for r in results if isinstance(r, WriteResult)]
    assert sorted((r.updated, r.unchanged) for r in written) == [(0, 1), (1, 0)], results
    counts = current_versions(engines[0])
    assert set(counts.values()) == {1} and len(counts) == 2
    latest = GoldenStore(engines[0]).get("Opportunity", "opp-1")
    assert latest is not None and latest.payload["stage"] == "Closed Won"


def test_the_migration_closes_twins_an_older_database_already_holds(db_url: str) -> None:
    """A store written before the guard may hold two current versions of one record; the
    migration keeps the newest and closes the other, so the unique indexes can be built."""
    engine = open_engine(db_url)
    store = GoldenStore(engine)
    store.write([Change(opp("opp-1", "Prospecting"), utc(2026, 1, 1), "kantata")])
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX uq_record_version_current"))
        conn.execute(sa.text("DROP INDEX uq_record_version_latest"))
        row = conn.execute(sa.select(record_version)).one()._asdict()
        del row["version_id"]
        conn.execute(sa.insert(record_version), [row])
        conn.execute(sa.text("DROP TABLE source_digest"))  # a store at 0009 has none (0011)
        conn.execute(sa.text("DROP TABLE engine_delivery_claim"))  # nor this (0012)
        conn.execute(sa.text("ALTER TABLE xref DROP COLUMN compare_digest"))  # nor this (0013)
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0009'"))
    assert set(current_versions(engine).values()) == {2}
    engine.dispose()
    engine = open_engine(db_url)
    assert set(current_versions(engine).values()) == {1}
    assert GoldenStore(engine).counts() == {"Opportunity": 1}
    engine.dispose()
