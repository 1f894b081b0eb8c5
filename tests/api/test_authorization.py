"""Authorization matrix: every route x every role, plus "no credentials, no answer".

The table below is the declared permission of each route. A route added to the app without
a row here fails `test_every_route_is_in_the_matrix`, so nobody ships an endpoint without
deciding who may call it.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_env import ROLES, ApiEnv
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

LEVEL = {"viewer": 1, "operator": 2, "admin": 3}
EXC = "{exc}"
VERSION = "{version}"
MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "viewer",
    ("GET", "/docs"): "viewer",
    ("GET", "/metrics"): "viewer",
    ("GET", "/api/v1/records"): "viewer",
    ("GET", "/api/v1/records/{entity_type}"): "viewer",
    ("GET", "/api/v1/records/{entity_type}/{record_id}"): "viewer",
    ("GET", "/api/v1/records/{entity_type}/{record_id}/history"): "viewer",
    ("GET", "/api/v1/records/{entity_type}/{record_id}/provenance"): "viewer",
    ("GET", "/api/v1/records/{entity_type}/{record_id}/xrefs"): "viewer",
    ("GET", "/api/v1/trace/{entity_type}/{record_id}"): "viewer",
    ("GET", "/api/v1/exceptions"): "viewer",
    ("GET", "/api/v1/exceptions/{exc_id}"): "viewer",
    ("POST", "/api/v1/exceptions/{exc_id}/assign"): "operator",
    ("POST", "/api/v1/exceptions/{exc_id}/resolve"): "operator",
    ("POST", "/api/v1/exceptions/{exc_id}/ignore"): "operator",
    ("POST", "/api/v1/exceptions/{exc_id}/reopen"): "operator",
    ("POST", "/api/v1/exceptions/{exc_id}/replay"): "operator",
    ("POST", "/api/v1/exceptions/bulk/assign"): "operator",
    ("POST", "/api/v1/exceptions/bulk/resolve"): "operator",
    ("POST", "/api/v1/exceptions/bulk/replay"): "operator",
    ("POST", "/api/v1/forecast/runs"): "operator",
    ("GET", "/api/v1/forecast/versions"): "viewer",
    ("GET", "/api/v1/forecast/versions/{version_id}"): "viewer",
    ("GET", "/api/v1/forecast/versions/{version_id}/cells"): "viewer",
    ("GET", "/api/v1/forecast/versions/{version_id}/drilldown"): "viewer",
    ("GET", "/api/v1/forecast/compare"): "viewer",
    ("GET", "/api/v1/forecast/held-back"): "viewer",
    ("GET", "/api/v1/forecast/versions/{version_id}/pivot"): "viewer",
    ("GET", "/api/v1/kpis/cards"): "viewer",
    ("GET", "/api/v1/connectors/health/objects"): "viewer",
    ("GET", "/api/v1/kpis"): "viewer",
    ("GET", "/api/v1/kpis/trend"): "viewer",
    ("GET", "/api/v1/connectors/health"): "viewer",
    ("GET", "/api/v1/admin/keys"): "admin",
    ("POST", "/api/v1/admin/keys"): "admin",
    ("DELETE", "/api/v1/admin/keys/{name}"): "admin",
}
# Answer without API credentials: liveness, the credential exchanges
# (which demand credentials in their body), and the dashboard's login page and static assets.
PUBLIC = {
    ("GET", "/healthz"),
    ("POST", "/oauth/token"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/"),
    ("GET", "/static/vendor/plotly.min.js"),
}
BODIES: dict[str, Any] = {
    "assign": {"owner": "billing"},
    "resolve": {"note": "fixed"},
    "ignore": {"note": "noise"},
    "replay": {},
    "bulk/assign": {"ids": ["nope"], "owner": "billing"},
    "bulk/resolve": {"ids": ["nope"], "note": "x"},
    "bulk/replay": {"ids": ["nope"]},
    "runs": {"as_of": "2026-06-15", "known_now": True, "band": False, "horizon": 3},
}


def _flatten(routes: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(full path, route); FastAPI >= 0.16x keeps included routers as nested objects."""
    out = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            out += _flatten(included.routes, prefix + route.include_context.prefix)
        elif not isinstance(route, Mount):
            assert isinstance(route, (APIRoute, Route)), route
            out.append((prefix + route.path, route))
    return out


def _routes(env: ApiEnv) -> set[tuple[str, str]]:
    found = set()
    for path, route in _flatten(list(env.app.routes)):
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, path))
    return found


@pytest.fixture(scope="module")
def version_id(shared_env: ApiEnv, shared_client: TestClient) -> str:
    r = shared_client.post(
        "/api/v1/forecast/runs", json=BODIES["runs"], headers=shared_env.auth("operator")
    )
    assert r.status_code == 201, r.text
    return str(r.json()["version_id"])


def _call(
    client: TestClient, method: str, path: str, headers: dict[str, str], env: ApiEnv, version: str
) -> int:
    concrete = (
        path.replace("{entity_type}", "Opportunity")
        .replace("{record_id}", "opp-2")
        .replace("{exc_id}", env.exception_ids["invalid_tax_code"])
        .replace("{version_id}", version)
        .replace("{name}", "nobody")
    )
    params: dict[str, Any] = {}
    if path.endswith("/compare"):
        params["versions"] = version
    if path.endswith("/drilldown"):
        params["month"] = "2026-07-01"
    body = None
    if method == "POST":
        tail = path.rsplit("/exceptions/", 1)[-1].replace("{exc_id}/", "")
        body = BODIES.get(tail, BODIES.get(path.rsplit("/", 1)[-1], {"name": "k-new"}))
    r = client.request(method, concrete, params=params, json=body, headers=headers)
    return r.status_code


def test_every_route_is_in_the_matrix(shared_env: ApiEnv) -> None:
    routes = _routes(shared_env)
    api = {r for r in routes if not r[1].startswith("/ui")}
    assert api - PUBLIC == set(MATRIX), "declare the role of every new route in MATRIX"


def test_nothing_answers_without_credentials(
    shared_env: ApiEnv, shared_client: TestClient, version_id: str
) -> None:
    for method, path in MATRIX:
        status = _call(shared_client, method, path, {}, shared_env, version_id)
        assert status == 401, (method, path, status)
    assert shared_client.get("/healthz").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(
    shared_env: ApiEnv, shared_client: TestClient, version_id: str, role: str
) -> None:
    for (method, path), least in MATRIX.items():
        status = _call(shared_client, method, path, shared_env.auth(role), shared_env, version_id)
        if LEVEL[role] >= LEVEL[least]:
            assert status not in (401, 403), (role, method, path, status)
            assert status < 500, (role, method, path, status)
        else:
            assert status == 403, (role, method, path, status)


def test_dashboard_pages_need_a_session(shared_env: ApiEnv, shared_client: TestClient) -> None:
    pages = [r for r in _routes(shared_env) if r[1].startswith("/ui")]
    assert pages
    for method, path in pages:
        concrete = path.replace("{version_id}", "abc").replace("{entity_type}", "Opportunity")
        concrete = concrete.replace("{record_id}", "opp-2").replace("{exc_id}", "x")
        concrete = concrete.replace("{verb}", "assign")
        # An API key is not a session: the dashboard still sends the browser to the login form.
        r = shared_client.request(
            method, concrete, headers=shared_env.auth("admin"), follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), (path, r)
