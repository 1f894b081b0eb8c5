"""The sandbox's server clock: emulators stamp a client's writes in the firm's time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pssync.sandbox.common import business_clock
from pssync.sandbox.common.memtable import utcnow
from pssync.sandbox.salesforce.timefmt import parse_datetime
from pssync.sandbox.up import Sandbox


def test_unanchored_it_is_the_wall_clock() -> None:
    business_clock.release()
    before = dt.datetime.now(dt.UTC)
    assert before <= business_clock.now() <= dt.datetime.now(dt.UTC)


def test_anchored_it_runs_on_from_the_anchor() -> None:
    moment = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    business_clock.anchor(moment)
    try:
        first, second = utcnow(), utcnow()
        assert moment <= first <= second < moment + dt.timedelta(minutes=5)
    finally:
        business_clock.release()
    assert utcnow() > moment + dt.timedelta(days=200)


@pytest.mark.integration
def test_a_write_is_stamped_before_the_firms_next_changes(tmp_path: Path) -> None:
    """A write-back made between two clock steps must sort before the next step's changes, or
    a client reading "modified since the latest stamp I saw" skips them (a deal won the next
    simulated day was never captured). The sandbox stops on the wall clock again."""
    today = dt.date(2026, 6, 1)
    with Sandbox.start_all(
        "small", 0, systems=["salesforce", "kantata"], state_dir=tmp_path, today=today
    ) as sandbox:
        salesforce = sandbox.emulators["salesforce"]
        written = parse_datetime(salesforce.records.stamp())  # type: ignore[attr-defined]
        assert written.date() == today
        sandbox.advance(5)
        after = parse_datetime(salesforce.records.stamp())  # type: ignore[attr-defined]
        assert after.date() == today + dt.timedelta(days=5)
        stamps = [
            parse_datetime(row["SystemModstamp"])
            for row in sandbox.firm.views["salesforce"]["Opportunity"]
            if row["SystemModstamp"] >= today.isoformat()
        ]
        assert stamps and all(written < s < after for s in stamps)
        assert today <= utcnow().date() < today + dt.timedelta(days=6)  # Kantata's writes
    assert utcnow().date() > today + dt.timedelta(days=100)
