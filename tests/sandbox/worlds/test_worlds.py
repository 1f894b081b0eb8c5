"""The world family: deterministic per seed, canonical, and really different from seed to seed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from decimal import Decimal
from functools import cache

import pytest

from pssync.forecast import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.sandbox.worlds import World, draw_traits, generate_world
from pssync.store.jsonl import parse_line


@cache
def world(seed: int) -> World:
    return generate_world(seed)


@cache
def lines(seed: int) -> tuple[str, ...]:
    return tuple(world(seed).truth_lines())


def test_same_seed_same_bytes_other_seed_other_firm() -> None:
    again = list(generate_world(3).truth_lines())
    digest = hashlib.sha256("\n".join(again).encode()).hexdigest()
    assert digest == hashlib.sha256("\n".join(lines(3)).encode()).hexdigest()
    assert lines(3) != lines(4)


@pytest.mark.parametrize("seed", [3, 4])
def test_every_line_is_canonical_and_in_valid_time_order(seed: int) -> None:
    today = world(seed).today
    stamps = []
    for text in lines(seed):
        change = parse_line(text, "import")  # raises on any invalid payload
        stamps.append(change.valid_from)
    assert stamps == sorted(stamps)
    assert stamps[-1] < dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    kinds = Counter(json.loads(t)["entity_type"] for t in lines(seed))
    for kind in ("Opportunity", "Project", "ContractLine", "Assignment", "TimeEntry"):
        assert kinds[kind] > 0, kind
    assert kinds["RevenueEvent"] > 100


def test_behaviours_vary_across_seeds() -> None:
    traits = [draw_traits(s) for s in range(20)]
    assert min(t.optimism for t in traits) < 0.8 < 1.1 < max(t.optimism for t in traits)
    assert {t.booking_lead_weeks for t in traits} >= {2, 12} or len(
        {t.booking_lead_weeks for t in traits}
    ) >= 6
    assert min(t.tm_burn for t in traits) < 0.9 and max(t.tm_burn for t in traits) > 1.05
    growth = [line.growth for t in traits for line in t.lines]
    assert min(growth) < -0.2 and max(growth) > 0.3
    assert min(t.erp_stale for t in traits) < 0.2 and max(t.erp_stale for t in traits) > 0.8
    assert len({len(t.lines) for t in traits}) > 1


@pytest.mark.parametrize("seed", [3, 4])
def test_behaviours_show_in_the_history(seed: int) -> None:
    w = world(seed)
    lead = dt.timedelta(days=7 * w.traits.booking_lead_weeks)
    made_late = [b for j in w.jobs for b in j.bookings if b.made > j.created]
    assert made_late and all(b.start - b.made == lead for b in made_late)
    assert any(j.start > j.requested for j in w.jobs)  # won work queued for capacity
    methods = {j.deal.method for j in w.jobs}
    assert {"time_and_materials", "fixed_fee"} <= methods
    for j in w.jobs:  # a finished fixed-fee job recognises exactly its price
        revenue = sum(w.books[j.idx].revenue.values(), Decimal(0))
        if j.deal.method == "fixed_fee" and max(w.books[j.idx].revenue) < w.today:
            assert revenue == Decimal(j.deal.amount)
    stale = [j for j in w.jobs if j.stale_erp and j.start > j.requested]
    fresh = [j for j in w.jobs if not j.stale_erp]
    assert stale or fresh


def test_loads_as_truth_at_valid_time() -> None:
    analytics = AnalyticsStore()
    assert load_truth(analytics, lines(3)) > 1000
    analytics.materialize(dt.date(2025, 6, 30))
    (open_deals,) = analytics.con.execute(
        "SELECT count(*) FROM opportunity WHERE NOT is_closed"
    ).fetchone() or (0,)
    assert open_deals > 0
