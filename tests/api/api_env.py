"""A running pssync API over a temporary SQLite golden store holding the sample firm, a few
records whose fields carry injection strings, some exceptions, and one key per role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from pssync.api import create_app
from pssync.api.config import ApiSettings
from pssync.api.context import AppContext
from pssync.api.keys import Role
from pssync.config import Settings
from pssync.governance.exceptions import NewException
from pssync.governance.replay import raise_import_rejects
from pssync.store.jsonl import RejectedLine, import_lines

JWT_SECRET = "test-secret-" + "x" * 32
SOQL = "' OR 1=1 --"
SQL = "'; DROP TABLE x; --"
HTML = "<script>alert(1)</script>"
ROLES = ("viewer", "operator", "admin")
BAD_LINE = json.dumps(
    {
        "entity_type": "Account",
        "valid_from": "2026-02-01T00:00:00+00:00",
        "payload": {"id": "acc-fix", "currency": "usd"},
    }
)
FIXED_LINE = json.dumps(
    {
        "entity_type": "Account",
        "valid_from": "2026-02-01T00:00:00+00:00",
        "payload": {"id": "acc-fix", "name": "Fixed Co", "currency": "USD"},
    }
)


def sample_lines() -> list[str]:
    """The sample firm shipped in the package (pssync/samples/sample_firm.jsonl)."""
    text = resources.files("pssync.samples").joinpath("sample_firm.jsonl").read_text("utf-8")
    return text.splitlines()


def injection_lines() -> list[str]:
    account = {
        "id": "acc-inj",
        "name": HTML,
        "legal_name": SQL,
        "domain": SOQL,
        "xrefs": {"salesforce:Account": "001INJ' OR 1=1 --"},
    }
    opportunity = {
        "id": "opp-inj",
        "account_id": "acc-inj",
        "name": f"{HTML} {SOQL}",
        "amount": {"amount": "50000.00", "currency": "USD"},
        "close_date": "2026-09-30",
        "probability": "50",
        "stage": SQL,
        "service_line_id": "sl-adv",
    }
    when = "2026-02-01T00:00:00+00:00"
    return [
        json.dumps({"entity_type": "Account", "valid_from": when, "payload": account}),
        json.dumps({"entity_type": "Opportunity", "valid_from": when, "payload": opportunity}),
    ]


@dataclass
class ApiEnv:
    app: FastAPI
    ctx: AppContext
    keys: dict[str, str]
    exception_ids: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def build_env(tmp_path: Path, database_url: str | None = None, **api: Any) -> ApiEnv:
    settings = Settings(database_url=database_url or f"sqlite:///{tmp_path}/golden.db")
    options: dict[str, Any] = {
        "analytics_path": str(tmp_path / "analytics.duckdb"),
        "jwt_secret": JWT_SECRET,
        "band_simulations": 200,
        **api,
    }
    app = create_app(settings, ApiSettings(**options))
    ctx: AppContext = app.state.ctx
    report = import_lines(ctx.store, [*sample_lines(), *injection_lines()], system="sample")
    assert not report.rejected, report.rejected
    keys = {role: ctx.keys.create(f"{role}-key", Role.parse(role))[1] for role in ROLES}
    rejected = raise_import_rejects(
        ctx.exceptions, "bad.jsonl", [RejectedLine(1, "currency must be ISO 4217", BAD_LINE)]
    )
    dup = ctx.exceptions.raise_(
        NewException(
            category="duplicate_customer",
            message=f"possible duplicate of {HTML}",
            system="salesforce",
            entity_type="Account",
            record_id="acc-inj",
        )
    )
    tax = ctx.exceptions.raise_(
        NewException(
            category="invalid_tax_code",
            message="tax code missing",
            system="netsuite",
            entity_type="Account",
            record_id="acc-1",
        )
    )
    ids = {
        "invalid_record": rejected[0].id,
        "duplicate_customer": dup.id,
        "invalid_tax_code": tax.id,
    }
    return ApiEnv(app, ctx, keys, ids)


def web_login(client: Any, key: str, next_path: str = "/ui/forecast") -> None:
    """Log a test client into the dashboard with an API key (the session cookie stays on it)."""
    r = client.post("/login", data={"api_key": key, "next": next_path}, follow_redirects=False)
    assert r.status_code == 303, r.text
