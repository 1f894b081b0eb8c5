"""Prometheus metrics of pssync, in one registry that any module may import and increment.

The engine, connectors and delivery queues import the counters below (for example
``from pssync.api.metrics import DELIVERIES; DELIVERIES.labels("netsuite", "ok").inc()``); the
API serves the registry at ``/metrics``. Exception counts are not counters: they are read from
the exception table at scrape time, so they are right even when another process changed them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "pssync_api_requests",
    "API requests by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "pssync_api_request_seconds",
    "API request latency by route template.",
    ["route"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "pssync_api_rate_limited",
    "Requests refused with 429, by principal.",
    ["principal"],
    registry=REGISTRY,
)
EVENTS = Counter(
    "pssync_events",
    "Change events captured, by system and object.",
    ["system", "object"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "pssync_deliveries",
    "Writes delivered to target systems, by system and outcome.",
    ["system", "outcome"],
    registry=REGISTRY,
)
RETRIES = Counter(
    "pssync_retries", "Delivery or capture retries, by system.", ["system"], registry=REGISTRY
)
DEAD_LETTERS = Counter(
    "pssync_dead_letters",
    "Permanent failures turned into exceptions, by system.",
    ["system"],
    registry=REGISTRY,
)
LAG_SECONDS = Gauge(
    "pssync_sync_lag_seconds",
    "Age of the oldest unprocessed change, by system.",
    ["system"],
    registry=REGISTRY,
)
API_QUOTA_REMAINING = Gauge(
    "pssync_connector_api_quota_remaining",
    "API calls left in the current quota window, by connector.",
    ["connector"],
    registry=REGISTRY,
)

ExceptionCounts = Callable[[], dict[tuple[str, str], int]]


class ExceptionCollector(Collector):
    """Open/assigned/resolved/ignored exceptions by category, read at scrape time."""

    def __init__(self, counts: ExceptionCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "pssync_exceptions", "Exceptions by category and state.", labels=["category", "state"]
        )
        for (category, state), n in sorted(self.counts().items()):
            family.add_metric([category, state], n)
        yield family


def render(extra: Collector | None = None) -> bytes:
    """The text exposition of the shared registry plus a per-app collector (exceptions)."""
    if extra is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(extra)
    return generate_latest(REGISTRY) + generate_latest(registry)
