"""The learned forecast: no look-ahead, learning only from realised quarters, visible lineage."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache

from pssync.forecast import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.forecast.components import Component
from pssync.forecast.learned import Learned, learned_forecast
from pssync.forecast.learning import QUARTER
from pssync.forecast.origins import last_full_month
from pssync.planning.periods import add_months, month_start
from pssync.sandbox.worlds import generate_world

SEED = 11
T = dt.date(2025, 6, 30)
MID = dt.date(2025, 7, 15)  # July not yet a full month


@cache
def truth() -> tuple[str, ...]:
    return tuple(generate_world(SEED).truth_lines())


def _forecast(lines: tuple[str, ...], as_of: dt.date = T) -> Learned:
    analytics = AnalyticsStore()
    load_truth(analytics, lines)
    return learned_forecast(analytics, as_of, horizon=3, learn_months=15)


@cache
def base() -> Learned:
    return _forecast(truth())


def _late_fact(valid: dt.date) -> str:
    payload = {
        "id": "late-revenue",
        "recognized_date": valid.isoformat(),
        "amount": {"amount": "9999999.00", "currency": "USD"},
        "service_line_id": "sl-late",
    }
    return json.dumps(
        {
            "entity_type": "RevenueEvent",
            "valid_from": dt.datetime.combine(valid, dt.time(12), tzinfo=dt.UTC).isoformat(),
            "payload": payload,
        }
    )


def _rows(learned: Learned) -> list[tuple[object, ...]]:
    return sorted(
        (
            (c.month, c.component.value, str(c.dims), c.source, c.revenue, c.reason)
            for c in learned.result.revenue
        ),
        key=str,
    )


def test_a_fact_valid_after_t_changes_nothing_as_of_t() -> None:
    later = _forecast((*truth(), _late_fact(T + dt.timedelta(days=10))))
    assert _rows(later) == _rows(base())
    assert later.blend.weight == base().blend.weight
    assert later.bands == base().bands


def test_learning_uses_only_quarters_realised_by_t() -> None:
    learned = _forecast(truth(), MID)
    last = last_full_month(MID)
    assert last == dt.date(2025, 6, 1)
    for h, origins in learned.fit.origins.items():
        assert origins, h
        assert all(add_months(month_start(o), h) <= last for o in origins)
    assert learned.blend.origins
    assert all(add_months(month_start(o), QUARTER) <= last for o in learned.blend.origins)
    # revenue recognised in the (unfinished) as-of month teaches nothing: change it, same factors
    changed = _forecast((*truth(), _late_fact(dt.date(2025, 7, 10))), MID)
    assert changed.fit.factors == learned.fit.factors
    assert changed.blend.weight == learned.blend.weight


def test_every_adjustment_is_a_contribution_with_its_reason() -> None:
    learned = base()
    adjustments = [c for c in learned.result.revenue if c.component.value.startswith("learned_")]
    assert adjustments and all(c.reason and c.source.startswith("learned:") for c in adjustments)
    assert {c.component for c in adjustments} & {
        Component.LEARNED_CONVERSION,
        Component.LEARNED_NEW_WORK,
    }
    bottom = sum((c.revenue for c in learned.bottom_up.revenue), Decimal(0))
    total = sum((c.revenue for c in learned.result.revenue), Decimal(0))
    assert total == bottom + sum((c.revenue for c in adjustments), Decimal(0))


def test_bands_are_not_degenerate() -> None:
    for band in base().bands:
        if band.p50 > 0:
            assert band.p10 < band.p50 < band.p90, band
