"""Kaplan-Meier survival curves in numpy.

Time-to-close and close-date slippage are only partly observed: deals still open at T have not
closed *yet*, and dropping them would bias durations short (only the quick ones are done).
Kaplan-Meier treats them as right-censored. lifelines would do this, but it is not installed
and pulls in pandas; the estimator is a dozen lines, so it lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class KaplanMeier:
    """S(t) = P(duration > t), a step function over the distinct event times."""

    times: npt.NDArray[np.float64]
    survival: npt.NDArray[np.float64]
    observed: int
    censored: int

    @classmethod
    def fit(cls, durations: Sequence[float], events: Sequence[bool]) -> KaplanMeier:
        d = np.asarray(durations, dtype=np.float64)
        e = np.asarray(events, dtype=bool)
        if d.size == 0:
            return cls(np.zeros(0), np.zeros(0), 0, 0)
        event_times = np.unique(d[e])
        at_risk = np.array([(d >= t).sum() for t in event_times], dtype=np.float64)
        deaths = np.array([((d == t) & e).sum() for t in event_times], dtype=np.float64)
        survival = np.cumprod(1.0 - deaths / at_risk).astype(np.float64)
        return cls(event_times, survival, int(e.sum()), int((~e).sum()))

    def at(self, t: float) -> float:
        """S(t): the share still not closed after `t`."""
        i = int(np.searchsorted(self.times, t, side="right"))
        return 1.0 if i == 0 else float(self.survival[i - 1])

    def quantile(self, q: float) -> float | None:
        """Smallest t with F(t) >= q (None when censoring hides that part of the curve)."""
        hit = np.nonzero(self.survival <= 1.0 - q + 1e-12)[0]
        return float(self.times[hit[0]]) if hit.size else None

    def sample(
        self, rng: np.random.Generator, size: int, at_least: float = 0.0
    ) -> npt.NDArray[np.float64]:
        """Draws of the duration given it already exceeds `at_least` (inverse transform).

        Mass beyond the last observed event (censored tail) is placed at the largest time seen,
        a conservative choice: it never invents slippage longer than history has shown.
        """
        if self.times.size == 0:
            return np.full(size, at_least)
        base = self.at(at_least)
        targets = base * rng.random(size)
        # first index where survival <= target
        idx = np.searchsorted(-self.survival, -targets, side="left")
        out = np.where(
            idx < self.times.size, self.times[np.minimum(idx, self.times.size - 1)], self.times[-1]
        )
        return np.maximum(out, at_least)
