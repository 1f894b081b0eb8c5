"""The JSON-path trace query and the API's own table on each backend (SQLite, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from api_env import build_env
from fastapi.testclient import TestClient


def test_trace_and_keys_on_each_backend(db_url: str, tmp_path: Path) -> None:
    env = build_env(tmp_path, database_url=db_url)
    try:
        with TestClient(env.app) as client:
            r = client.get("/api/v1/trace/Payment/pay-2-1", headers=env.auth("viewer"))
            assert r.status_code == 200
            ids = [n["id"] for n in r.json()["nodes"]]
            assert ids[0] == "opp-2" and {"prj-2", "cl-2", "inv-2-1", "pay-2-1"} <= set(ids)
            health = client.get("/api/v1/connectors/health", headers=env.auth("viewer")).json()
            assert {h["system"] for h in health} >= {"salesforce", "kantata", "netsuite"}
    finally:
        env.ctx.close()
