"""`bench_forecast.py` for the `large` firm (goal <= 10 s), so `python -m bench` keeps its own
table in results.md; arguments after the script name are passed on.

    python bench/bench_forecast_large.py [--repeat R] [--db FILE]
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--size", "large", *sys.argv[1:]]
    runpy.run_path(str(Path(__file__).with_name("bench_forecast.py")), run_name="__main__")
