"""Dashboard fixtures: the API test environment (tests/api/api_env.py) plus logged-in clients."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

API_TESTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "api")
if API_TESTS not in sys.path:
    sys.path.insert(0, API_TESTS)

from api_env import ApiEnv, build_env, web_login  # noqa: E402


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


@pytest.fixture
def operator(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(env.app) as client:
        web_login(client, env.keys["operator"])
        yield client


@pytest.fixture
def viewer(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(env.app) as client:
        web_login(client, env.keys["viewer"])
        yield client
