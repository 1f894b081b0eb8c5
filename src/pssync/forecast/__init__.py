"""Services forecast from the golden store's history: revenue, billing, utilization, margin.

Flow: `AnalyticsStore.sync(store)` mirrors the bitemporal history into DuckDB; `run_forecast`
reads a snapshot as of T (valid and known at T), calibrates from history, places pipeline
deals where capacity allows, and adds actuals, backlog and weighted pipeline per month x
service line x region x legal entity; `save_version` keeps the run; `backtest` scores it.
"""

from pssync.forecast.analytics import AnalyticsStore, SyncReport
from pssync.forecast.backtest import backtest, score
from pssync.forecast.bookings import bookings_band
from pssync.forecast.calibration import Calibration, calibrate
from pssync.forecast.components import Component, Contribution, Dims
from pssync.forecast.montecarlo import Band, BandReport, revenue_band
from pssync.forecast.run import ForecastResult, Scenario, forecast_snapshot, run_forecast
from pssync.forecast.snapshot import Snapshot, load_snapshot
from pssync.forecast.versions import (
    compare_versions,
    list_versions,
    recompute,
    save_version,
    version_cells,
)

__all__ = [
    "AnalyticsStore",
    "Band",
    "BandReport",
    "Calibration",
    "Component",
    "Contribution",
    "Dims",
    "ForecastResult",
    "Scenario",
    "Snapshot",
    "SyncReport",
    "backtest",
    "bookings_band",
    "calibrate",
    "compare_versions",
    "forecast_snapshot",
    "list_versions",
    "load_snapshot",
    "recompute",
    "revenue_band",
    "run_forecast",
    "save_version",
    "score",
    "version_cells",
]
