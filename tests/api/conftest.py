"""API test fixtures (see api_env.py); the folder is put on sys.path for importlib mode."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

HERE = os.path.dirname(__file__)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from api_env import ApiEnv, build_env  # noqa: E402


@pytest.fixture
def env(tmp_path: Path) -> ApiEnv:
    return build_env(tmp_path)


@pytest.fixture
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(env.app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> ApiEnv:
    """One environment for read-only tests in a module (the authorization matrix)."""
    return build_env(tmp_path_factory.mktemp("api"), rate_burst=100_000)


@pytest.fixture(scope="module")
def shared_client(shared_env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(shared_env.app) as test_client:
        yield test_client
