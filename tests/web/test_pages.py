"""Dashboard pages through the test client: login, CSRF, roles, escaping, actions, drill-down."""

from __future__ import annotations

import re

from api_env import HTML, SQL, ApiEnv, web_login
from fastapi.testclient import TestClient

from pssync.api.keys import Role
from pssync.store.tables import audit_log
from pssync.web import session


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def test_login_required_and_safe_next(env: ApiEnv) -> None:
    with TestClient(env.app) as client:
        r = client.get("/ui/kpis", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/ui/kpis"
        bad = client.post("/login", data={"api_key": "pss_x_y"}, follow_redirects=False)
        assert bad.status_code == 401 and "not valid" in bad.text
        r = client.post(
            "/login",
            data={"api_key": env.keys["viewer"], "next": "//evil.example/ui/x"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/ui/forecast"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert client.get("/ui/kpis").status_code == 200
        # A forged cookie is ignored.
        client.cookies.set("pssync_session", "eyJrIjoieCJ9.AAAA")
        assert client.get("/ui/kpis", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_the_session(env: ApiEnv, viewer: TestClient) -> None:
    assert viewer.get("/ui/health").status_code == 200
    env.ctx.keys.revoke("viewer-key")
    assert viewer.get("/ui/health", follow_redirects=False).status_code == 303


def test_forecast_page_runs_and_drills_down(env: ApiEnv, operator: TestClient) -> None:
    page = operator.get("/ui/forecast").text
    assert "No forecast version yet" in page
    form = {"csrf": _csrf(page), "as_of": "2026-06-15", "scenario": "base", "known_now": "true"}
    r = operator.post("/ui/forecast/run", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = operator.get(r.headers["location"]).text
    assert 'id="forecast-chart"' in page and '"type": "bar"' in page and "P10-P90" in page
    assert '<table class="pivot">' in page and "ERP Implementation" in page
    july = re.findall(r'href="(/ui/forecast/[0-9a-f]+/cell\?month=2026-07-01[^"]*)"', page)
    assert len(july) >= 3  # one per service line in the pivot
    cells = [
        operator.get(link.replace("&amp;", "&") + "&component=weighted_pipeline").text
        for link in july
    ]
    links = [re.search(r'href="(/ui/trace/Opportunity/[^"]+)"', cell) for cell in cells]
    trace_link = next(link for link in links if link)
    trace = operator.get(trace_link.group(1)).text
    assert "Trace: Opportunity" in trace and "salesforce" in trace
    filtered = operator.get(r.headers["location"] + "&service_line=sl-erp").text
    assert "for ERP Implementation" in filtered


def test_csrf_and_role_guard_actions(env: ApiEnv, operator: TestClient, viewer: TestClient) -> None:
    exc_id = env.exception_ids["invalid_tax_code"]
    r = operator.post(f"/ui/exceptions/{exc_id}/assign", data={"csrf": "forged", "owner": "x"})
    assert r.status_code == 403
    page = viewer.get("/ui/exceptions").text
    assert "operator role needed" in page
    r = viewer.post(
        f"/ui/exceptions/{exc_id}/assign", data={"csrf": _csrf_of(env, viewer), "owner": "x"}
    )
    assert r.status_code == 403
    assert env.ctx.exceptions.get(exc_id).state == "open"  # type: ignore[union-attr]


def _csrf_of(env: ApiEnv, client: TestClient) -> str:
    found = session.sessions_of(env.ctx).read(client.cookies.get(session.COOKIE))
    assert found is not None
    return found.csrf


def test_logout_ends_the_session_server_side(env: ApiEnv, operator: TestClient) -> None:
    """Issue 14 defect 8: after logout the old cookie still loaded pages and assigned."""
    exc_id = env.exception_ids["invalid_tax_code"]
    page = operator.get("/ui/exceptions")
    assert page.status_code == 200
    csrf, kept = _csrf(page.text), operator.cookies.get(session.COOKIE)
    out = operator.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    with TestClient(env.app) as thief:  # a copy of the cookie taken before the logout
        thief.cookies.set(session.COOKIE, str(kept))
        for path in ("/ui/exceptions", "/ui/forecast", "/docs", "/openapi.json"):
            answer = thief.get(path, follow_redirects=False)
            assert answer.status_code in (303, 401), path
        r = thief.post(
            f"/ui/exceptions/{exc_id}/assign",
            data={"csrf": csrf, "owner": "mallory"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    found = env.ctx.exceptions.get(exc_id)
    assert found is not None and found.owner != "mallory" and found.state == "open"
    # A new login is a new session; the ended one stays ended.
    web_login(operator, env.keys["operator"])
    assert operator.get("/ui/exceptions").status_code == 200
    assert session.sessions_of(env.ctx).read(str(kept)) is None


def test_session_cookie_is_signed_and_expires(env: ApiEnv) -> None:
    sessions = session.sessions_of(env.ctx)
    value = sessions.start("k1", "someone", Role.VIEWER)
    found = sessions.read(value)
    assert found is not None and found.name == "someone"
    tampered = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    assert sessions.read(tampered) is None
    assert sessions.read("x" * 5000) is None and sessions.read(None) is None
    other_key = session.Sessions(env.ctx.store.engine, b"another key", 3600)
    assert other_key.read(value) is None
    expired = session.Sessions(env.ctx.store.engine, env.ctx.session_key, -1)
    assert expired.read(value) is None


def test_inbox_assign_resolve_and_audit(env: ApiEnv, operator: TestClient) -> None:
    exc_id = env.exception_ids["invalid_tax_code"]
    csrf = _csrf(operator.get("/ui/exceptions").text)
    r = operator.post(f"/ui/exceptions/{exc_id}/assign", data={"csrf": csrf, "owner": "tax-team"})
    assert r.status_code == 200 and "is now assigned" in r.text
    r = operator.post(f"/ui/exceptions/{exc_id}/resolve", data={"csrf": csrf, "note": "code added"})
    assert "is now resolved" in r.text
    found = env.ctx.exceptions.get(exc_id)
    assert found is not None and found.state == "resolved" and found.owner == "tax-team"
    with env.ctx.store.engine.connect() as conn:
        actions = [
            (row.actor, row.action)
            for row in conn.execute(audit_log.select().where(audit_log.c.record_id == exc_id))
        ]
    assert ("operator-key", "api.assign") in actions and ("operator-key", "api.resolve") in actions


def test_injected_markup_is_escaped(env: ApiEnv, viewer: TestClient) -> None:
    inbox = viewer.get("/ui/exceptions").text
    assert HTML not in inbox and "&lt;script&gt;alert(1)&lt;/script&gt;" in inbox
    trace = viewer.get("/ui/trace/Opportunity/opp-inj").text
    assert HTML not in trace and "&lt;script&gt;" in trace
    assert "&#39;; DROP TABLE x; --" in trace and SQL not in trace


def test_pages_render(env: ApiEnv, viewer: TestClient) -> None:
    for path in ("/ui/kpis", "/ui/health", "/ui/compare", "/ui/exceptions?state=all"):
        r = viewer.get(path)
        assert r.status_code == 200, path
        assert "content-security-policy" in r.headers
    health = viewer.get("/ui/health").text
    assert "salesforce" in health and "netsuite" in health
    assert viewer.get("/static/vendor/plotly.min.js").status_code == 200
    assert viewer.get("/ui/trace/Region/reg-na").status_code == 404
    web_login(viewer, env.keys["viewer"])


def test_inbox_and_trace_show_names_with_ids_on_hover(env: ApiEnv, viewer: TestClient) -> None:
    inbox = viewer.get("/ui/exceptions").text
    assert '<span class="record" title="acc-1">Northwind Traders</span>' in inbox
    trace = viewer.get("/ui/trace/Opportunity/opp-1").text
    assert '<span title="sl-erp">ERP Implementation</span>' in trace
    assert '<span title="le-us">Acme Consulting Inc.</span>' in trace
    assert "Northwind Traders" in trace  # the account link is named


def test_health_window_is_chosen_on_the_page(env: ApiEnv, viewer: TestClient) -> None:
    day = viewer.get("/ui/health?window_minutes=1440").text
    assert "over the last 24 h" in " ".join(day.split())
    assert 'href="/ui/health?window_minutes=1440" class="current"' in day
    assert viewer.get("/ui/health?window_minutes=0").status_code == 422
