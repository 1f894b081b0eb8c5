"""Credentials (API keys, OAuth 2.0 JWTs), rate limit, body size limit, correlation IDs, audit."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from api_env import JWT_SECRET, ApiEnv, build_env
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi.testclient import TestClient
from sqlalchemy import select

from pssync.api.keys import Role
from pssync.api.tables import api_key
from pssync.store.audit import verify_chain
from pssync.store.tables import audit_log


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(header: dict[str, object], claims: dict[str, object], sign: bytes | None = None) -> str:
    head, body = _b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(sign or b'')}"


def _claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": "pssync", "aud": "pssync-api", "sub": "svc", "exp": now + 60, **extra}


def test_keys_are_stored_as_salted_digests(env: ApiEnv) -> None:
    with env.ctx.store.engine.connect() as conn:
        rows = list(conn.execute(select(api_key)))
    assert len(rows) == 3
    for row in rows:
        assert all(
            row.digest not in key and key.split("_", 2)[2] not in row.digest
            for key in env.keys.values()
        )
    assert len({r.salt for r in rows}) == 3


def test_key_in_either_header(env: ApiEnv, client: TestClient) -> None:
    key = env.keys["viewer"]
    assert client.get("/api/v1/records", headers={"X-API-Key": key}).status_code == 200
    assert (
        client.get("/api/v1/records", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    )
    wrong = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    r = client.get("/api/v1/records", headers={"X-API-Key": wrong})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/records", headers={"X-API-Key": "pss_nope_nope"}).status_code == 401


def test_revoked_key_is_refused(env: ApiEnv, client: TestClient) -> None:
    env.ctx.keys.revoke("viewer-key")
    assert client.get("/api/v1/records", headers=env.auth("viewer")).status_code == 401


def test_client_credentials_token(env: ApiEnv, client: TestClient) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "operator-key",
        "client_secret": env.keys["operator"],
    }
    r = client.post("/oauth/token", data=form)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/exceptions", headers=bearer).status_code == 200
    assert client.get("/api/v1/admin/keys", headers=bearer).status_code == 403
    assert client.post("/oauth/token", data={**form, "client_id": "admin-key"}).status_code == 401
    assert client.post("/oauth/token", data={**form, "grant_type": "password"}).status_code == 422
    # Tampering with the claims (operator -> admin) breaks the signature.
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged = f"{head}.{_b64(json.dumps({**claims, 'role': 'admin'}).encode())}.{sig}"
    assert (
        client.get("/api/v1/admin/keys", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )


def test_unsigned_expired_and_foreign_tokens_are_refused(client: TestClient) -> None:
    import hashlib
    import hmac

    def hs(claims: dict[str, object], alg: str = "HS256") -> str:
        unsigned = _jwt({"alg": alg, "typ": "JWT"}, claims)
        head, body, _ = unsigned.split(".")
        mac = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(mac)}"

    assert (
        client.get(
            "/api/v1/records", headers={"Authorization": f"Bearer {hs(_claims(role='viewer'))}"}
        ).status_code
        == 200
    )
    refused = [
        _jwt({"alg": "none"}, _claims(role="admin")),
        hs(_claims(role="admin", exp=int(time.time()) - 600)),
        hs(_claims(role="admin", aud="someone-else")),
        hs(_claims(role="admin", iss="evil")),
        "not.a.jwt",
    ]
    for token in refused:
        r = client.get("/api/v1/records", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
    no_role = hs(_claims())
    assert (
        client.get("/api/v1/records", headers={"Authorization": f"Bearer {no_role}"}).status_code
        == 403
    )


def test_rs256_tokens_from_an_external_issuer(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    env = build_env(tmp_path, jwt_public_key=pem, jwt_issuer="https://idp.example")
    unsigned = _jwt({"alg": "RS256"}, _claims(iss="https://idp.example", scope="pssync:operator"))
    head, body, _ = unsigned.split(".")
    sig = private.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    token = f"{head}.{body}.{_b64(sig)}"
    with TestClient(env.app) as client:
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/exceptions", headers=bearer).status_code == 200
        assert client.get("/api/v1/admin/keys", headers=bearer).status_code == 403
        # The public key must not double as an HS256 secret (algorithm confusion).
        import hashlib
        import hmac

        mac = hmac.new(pem.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        confused = _jwt({"alg": "HS256"}, _claims(iss="https://idp.example", role="admin"))
        h2, b2, _ = confused.split(".")
        mac = hmac.new(pem.encode(), f"{h2}.{b2}".encode(), hashlib.sha256).digest()
        r = client.get(
            "/api/v1/admin/keys", headers={"Authorization": f"Bearer {h2}.{b2}.{_b64(mac)}"}
        )
        assert r.status_code == 401


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    env = build_env(tmp_path, rate_burst=3, rate_per_minute=6)
    with TestClient(env.app) as client:
        codes = [
            client.get("/api/v1/records", headers=env.auth("viewer")).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        r = client.get("/api/v1/records", headers=env.auth("viewer"))
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 10
        # Buckets are per principal: another key still has its burst.
        assert client.get("/api/v1/records", headers=env.auth("operator")).status_code == 200


def test_request_body_limit(tmp_path: Path) -> None:
    env = build_env(tmp_path, max_body_bytes=2048)
    with TestClient(env.app) as client:
        big = {"ids": ["x" * 60] * 100, "owner": "o"}
        r = client.post("/api/v1/exceptions/bulk/assign", json=big, headers=env.auth("operator"))
        assert r.status_code == 413
        small = {"ids": ["x"], "owner": "o"}
        r = client.post("/api/v1/exceptions/bulk/assign", json=small, headers=env.auth("operator"))
        assert r.status_code == 200


def test_correlation_id_in_and_out(env: ApiEnv, client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Correlation-ID": "abc-123"})
    assert r.headers["x-correlation-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Correlation-ID": "bad id\n<script>"})
    assert made.headers["x-correlation-id"] != "bad id\n<script>"
    assert len(made.headers["x-correlation-id"]) == 32


def test_state_changes_are_audited_with_actor_and_correlation(
    env: ApiEnv, client: TestClient
) -> None:
    exc_id = env.exception_ids["invalid_tax_code"]
    r = client.post(
        f"/api/v1/exceptions/{exc_id}/assign",
        json={"owner": "tax-team"},
        headers={**env.auth("operator"), "X-Correlation-ID": "corr-42"},
    )
    assert r.status_code == 200 and r.json()["owner"] == "tax-team"
    with env.ctx.store.engine.connect() as conn:
        rows = list(conn.execute(select(audit_log).where(audit_log.c.action == "api.assign")))
    assert [(r.actor, r.record_id, r.correlation_id) for r in rows] == [
        ("operator-key", exc_id, "corr-42")
    ]
    assert verify_chain(env.ctx.store.engine).ok


def test_admin_manages_keys_over_the_api(env: ApiEnv, client: TestClient) -> None:
    r = client.post(
        "/api/v1/admin/keys", json={"name": "ci-bot", "role": "operator"}, headers=env.auth("admin")
    )
    assert r.status_code == 201
    key = r.json()["key"]
    assert client.get("/api/v1/exceptions", headers={"X-API-Key": key}).status_code == 200
    listed = client.get("/api/v1/admin/keys", headers=env.auth("admin")).json()
    assert key.split("_", 2)[2] not in json.dumps(listed)  # the secret may hold "_" itself
    assert all("key" not in row for row in listed)
    assert client.delete("/api/v1/admin/keys/ci-bot", headers=env.auth("admin")).status_code == 200
    assert client.get("/api/v1/exceptions", headers={"X-API-Key": key}).status_code == 401
    assert env.ctx.keys.verify(key) is None
    assert env.ctx.keys.create("another", Role.VIEWER)[1].startswith("pss_")


def test_a_revoked_keys_token_is_refused_at_the_next_request(
    env: ApiEnv, client: TestClient
) -> None:
    """Issue 14 defect 5: a JWT exchanged for a key kept working until its TTL after the key
    was revoked over the API."""
    form = {
        "grant_type": "client_credentials",
        "client_id": "operator-key",
        "client_secret": env.keys["operator"],
    }
    token = client.post("/oauth/token", data=form).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/exceptions", headers=bearer).status_code == 200
    revoked = client.delete("/api/v1/admin/keys/operator-key", headers=env.auth("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    for method, path in (
        ("GET", "/api/v1/exceptions"),
        ("POST", "/api/v1/forecast/runs"),
        ("POST", "/api/v1/exceptions/any/assign"),
    ):
        answer = client.request(method, path, headers=bearer, json={"owner": "x"})
        assert answer.status_code == 401, (path, answer.text)
        assert "revoked" in answer.json()["detail"]
    # The viewer's token, from a key still live, keeps working.
    viewer = {**form, "client_id": "viewer-key", "client_secret": env.keys["viewer"]}
    other = client.post("/oauth/token", data=viewer).json()["access_token"]
    answer = client.get("/api/v1/exceptions", headers={"Authorization": f"Bearer {other}"})
    assert answer.status_code == 200


def test_tokens_are_read_by_pyjwt_with_the_algorithm_the_key_fixes(env: ApiEnv) -> None:
    import jwt

    tokens = env.ctx.tokens
    token = tokens.issue("svc", "viewer", 60, key_id="abc")
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience="pssync-api")
    assert claims["pssync_key_id"] == "abc" and claims["jti"]
    assert tokens.verify(token)["sub"] == "svc"
    missing_sub = jwt.encode({k: v for k, v in _claims().items() if k != "sub"}, JWT_SECRET)
    for bad in (missing_sub, jwt.encode(_claims(), JWT_SECRET, algorithm="HS512"), "a.b"):
        try:
            tokens.verify(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
