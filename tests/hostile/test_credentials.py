"""Hostile credentials, fuzzed with Hypothesis: any session cookie, bearer token or API key
header is answered with a redirect to the login form or a 401/403, never a 5xx, and never lets
the caller in."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

API_TESTS = str(Path(__file__).parents[1] / "api")
if API_TESTS not in sys.path:
    sys.path.insert(0, API_TESTS)

from api_env import ApiEnv, build_env  # noqa: E402

from pssync.web import session  # noqa: E402

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What an HTTP client can put in a header: printable ASCII.
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> ApiEnv:
    return build_env(tmp_path_factory.mktemp("hostile-credentials"), rate_burst=1_000_000)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(env.app, raise_server_exceptions=False) as c:
        yield c


@FUZZ
@given(cookie=header_text | st.just("eyJzIjoieCJ9.AAAA.BBBB"))
def test_any_session_cookie_is_sent_to_the_login_form(client: TestClient, cookie: str) -> None:
    client.cookies.clear()
    client.cookies.set(session.COOKIE, cookie)
    for path in ("/ui/exceptions", "/ui/forecast"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert client.get("/openapi.json").status_code == 401
    client.cookies.clear()


@FUZZ
@given(token=header_text.filter(str.strip), as_key=st.booleans())
def test_any_bearer_token_or_key_is_refused(client: TestClient, token: str, as_key: bool) -> None:
    headers = {"X-API-Key": token} if as_key else {"Authorization": f"Bearer {token.strip()}"}
    answer = client.get("/api/v1/exceptions", headers=headers)
    assert answer.status_code in (401, 403), answer.text
