"""Kaplan-Meier against a hand-computed curve, and censoring-aware sampling."""

from __future__ import annotations

import numpy as np
import pytest

from pssync.forecast.survival import KaplanMeier


def test_hand_computed_curve_with_censoring() -> None:
    # durations 1,2,2(censored),3,4(censored): S(1)=4/5, S(2)=4/5*3/4=0.6, S(3)=0.6*1/2=0.3
    km = KaplanMeier.fit([1, 2, 2, 3, 4], [True, True, False, True, False])
    assert km.at(0.5) == 1.0
    assert km.at(1) == pytest.approx(0.8)
    assert km.at(2) == pytest.approx(0.6)
    assert km.at(3.5) == pytest.approx(0.3)
    assert km.quantile(0.5) == 3.0
    assert km.quantile(0.9) is None  # the censored tail hides it
    assert (km.observed, km.censored) == (3, 2)


def test_dropping_censored_deals_would_bias_short() -> None:
    durations, events = [10, 20, 30, 40, 40, 40], [True, True, True, False, False, False]
    assert KaplanMeier.fit(durations, events).at(25) > KaplanMeier.fit([10, 20, 30], [True] * 3).at(
        25
    )


def test_conditional_sampling_respects_elapsed_time() -> None:
    km = KaplanMeier.fit([5, 10, 15, 20], [True] * 4)
    draws = km.sample(np.random.default_rng(1), 5000, at_least=12)
    assert draws.min() >= 15 and set(np.unique(draws)) == {15.0, 20.0}
    assert np.mean(draws == 15) == pytest.approx(0.5, abs=0.05)
