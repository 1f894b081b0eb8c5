"""The learned forecast: no look-ahead, learning only from realised quarters, visible lineage."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from functools import cache

from pssync.forecast import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.forecast.components import Component
from pssync.forecast.learned import Learned, learned_forecast
from pssync.forecast.learning import (
    BIAS_SHRINK_QUARTERS,
    QUARTER,
    Blend,
    best_weights,
    learn_bias,
    recency,
)
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
    assert (later.blend.weight, later.blend.seasonal) == (
        base().blend.weight,
        base().blend.seasonal,
    )
    assert later.bias == base().bias
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
    assert (changed.blend.weight, changed.blend.seasonal) == (
        learned.blend.weight,
        learned.blend.seasonal,
    )
    # the firm's learned bias: only nested quarters realised by T, unchanged by the late fact
    assert learned.bias.origins
    assert all(add_months(month_start(o), QUARTER) <= last for o in learned.bias.origins)
    assert changed.bias == learned.bias


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


def test_firm_bias_learns_only_from_quarters_realised_by_t() -> None:
    t = dt.date(2025, 6, 30)
    done, recent = dt.date(2025, 1, 31), dt.date(2025, 3, 31)  # quarters ending Apr, Jun
    open_ = dt.date(2025, 4, 30)  # its quarter (May-Jul) is not realised by T
    residuals = [
        (done, "a", 100.0, 110.0),
        (done, "b", 100.0, 90.0),  # the lines cancel: the firm was right
        (recent, "a", 100.0, 130.0),
        (recent, "b", 100.0, 130.0),
        (open_, "a", 100.0, 1000.0),  # would pull the bias up tenfold
    ]
    bias = learn_bias(Blend(1.0, 5, [done, recent, open_], residuals), t)
    assert bias.origins == [done, recent]
    w_done, w_recent = recency(done, t), recency(recent, t)
    raw = w_recent * math.log(1.3) / (w_done + w_recent)
    assert math.isclose(bias.raw, raw)
    assert math.isclose(bias.log, raw * 2 / (2 + BIAS_SHRINK_QUARTERS))


def test_the_firm_bias_is_a_visible_contribution_and_keeps_the_bands() -> None:
    learned = base()
    fixed = [c for c in learned.result.revenue if c.component == Component.LEARNED_FIRM_BIAS]
    if learned.bias.log:
        assert fixed and all("firm total" in c.reason for c in fixed)
    firm = next(b for b in learned.bands if b.service_line is None)
    before = firm.p50 - sum((c.revenue for c in fixed if c.month >= firm.first_month), Decimal(0))
    mu, _sigma, _n = learned.spread["firm"]
    # the band sits where the uncorrected forecast's nested errors put it
    centre = float(before) * math.exp(mu + learned.bias.log)
    assert math.isclose(float(firm.p10 * firm.p90) ** 0.5, centre, rel_tol=1e-3)


def test_the_blend_weights_go_to_the_candidate_the_past_quarters_bore_out() -> None:
    t = dt.date(2025, 6, 30)
    # (origin, line, calibrated bottom-up, seasonal run-rate, flat run-rate, actual)
    flat_right = [(t, "a", 80.0, 130.0, 100.0, 100.0), (t, "b", 60.0, 70.0, 50.0, 50.0)]
    assert best_weights(flat_right) == (0.0, 0.0)
    seasonal_right = [(t, "a", 80.0, 130.0, 100.0, 130.0), (t, "b", 60.0, 70.0, 50.0, 70.0)]
    assert best_weights(seasonal_right) == (0.0, 1.0)
    # many weights fit exactly (0.5 / 0.5 / 0, 0.75 / 0 / 0.25, ...): the most on the bottom-up
    assert best_weights([(t, "a", 80.0, 100.0, 120.0, 90.0)]) == (0.75, 0.0)
    blend = Blend(0.6, 2, [t], [], [], 0.25)
    assert math.isclose(blend.flat, 0.15)
