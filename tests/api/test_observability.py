"""/metrics for Prometheus, the shared metrics registry, JSON logs with correlation IDs."""

from __future__ import annotations

import json
import logging

import pytest
from api_env import ApiEnv
from fastapi.testclient import TestClient

from pssync.api import metrics
from pssync.api.logs import JsonFormatter, correlation_id


def _sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_expose_requests_exceptions_and_engine_counters(
    env: ApiEnv, client: TestClient
) -> None:
    h = env.auth("viewer")
    before = (
        _sample(
            client.get("/metrics", headers=h).text,
            "pssync_api_requests_total",
            route="/api/v1/records/{entity_type}/{record_id}",
            status="200",
        )
        or 0.0
    )
    client.get("/api/v1/records/Project/prj-2", headers=h)
    client.get("/api/v1/records/Account/acc-1", headers=h)
    metrics.DELIVERIES.labels("netsuite", "ok").inc(3)
    text = client.get("/metrics", headers=h).text
    after = _sample(
        text,
        "pssync_api_requests_total",
        route="/api/v1/records/{entity_type}/{record_id}",
        status="200",
    )
    assert after == before + 2  # one series per route template, not per record
    assert _sample(text, "pssync_exceptions", category="invalid_tax_code", state="open") == 1
    assert (_sample(text, "pssync_deliveries_total", system="netsuite", outcome="ok") or 0) >= 3
    for name in (
        "pssync_events",
        "pssync_retries",
        "pssync_dead_letters",
        "pssync_sync_lag_seconds",
        "pssync_connector_api_quota_remaining",
    ):
        assert f"# TYPE {name}" in text
    exc_id = env.exception_ids["invalid_tax_code"]
    client.post(
        f"/api/v1/exceptions/{exc_id}/resolve", json={"note": "x"}, headers=env.auth("operator")
    )
    text = client.get("/metrics", headers=h).text
    assert _sample(text, "pssync_exceptions", category="invalid_tax_code", state="resolved") == 1
    assert client.get("/metrics").status_code == 401


def test_access_log_carries_the_correlation_id(
    env: ApiEnv, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pssync.api"):
        client.get("/api/v1/records", headers={**env.auth("viewer"), "X-Correlation-ID": "c-77"})
    lines = [r for r in caplog.records if r.name == "pssync.api" and r.getMessage() == "request"]
    assert lines
    record = lines[-1]
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "/api/v1/records" and line["status"] == 200
    assert line["principal"] == "viewer-key" and line["duration_ms"] >= 0


def test_json_formatter_writes_one_object_with_the_current_id() -> None:
    token = correlation_id.set("abc")
    try:
        record = logging.makeLogRecord(
            {
                "name": "pssync.api",
                "msg": "hello %s",
                "args": ("x",),
                "levelname": "INFO",
                "custom": 5,
            }
        )
        data = json.loads(JsonFormatter().format(record))
    finally:
        correlation_id.reset(token)
    assert data["message"] == "hello x" and data["correlation_id"] == "abc" and data["custom"] == 5
