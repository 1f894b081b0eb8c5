"""Reuse the forecast tests' hand-made fixture builders (see tests/forecast/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

FORECAST_TESTS = str(Path(__file__).resolve().parents[1] / "forecast")
if FORECAST_TESTS not in sys.path:
    sys.path.insert(0, FORECAST_TESTS)
