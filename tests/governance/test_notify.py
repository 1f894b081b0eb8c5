"""Exceptions reach their owners: a Standard-Webhooks-signed POST and a ServiceNow incident."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from pssync.config.exceptions import NotifyConfig, RoutingConfig, RoutingRule
from pssync.engine.webhooks import verify
from pssync.governance.exceptions import ExceptionStore, NewException
from pssync.governance.notify import Notifier
from pssync.governance.routing import Router
from pssync.sandbox.common.runner import ServerThread
from pssync.sandbox.servicenow import ServiceNowEmulator
from pssync.store import GoldenStore, open_engine

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="module")
def servicenow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceNowEmulator]:
    emulator = ServiceNowEmulator(state_dir=tmp_path_factory.mktemp("snow"))
    with emulator:
        emulator.seed({"sys_user_group": [{"name": "deal-desk"}, {"name": "Service Desk"}]})
        yield emulator


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    app = FastAPI()

    @app.post("/hooks")
    async def hook(request: Request) -> dict[str, bool]:
        received.append((dict(request.headers), await request.body()))
        return {"ok": True}

    with ServerThread(app) as server:
        yield f"{server.base_url}/hooks", received


@pytest.fixture
def exceptions(
    tmp_path: Path, servicenow: ServiceNowEmulator, inbox: tuple[str, list[Any]]
) -> ExceptionStore:
    creds = servicenow.credentials()
    config = NotifyConfig.model_validate(
        {
            "webhooks": [{"url": inbox[0], "secret": SECRET}],
            "servicenow": {"base_url": servicenow.base_url, "min_severity": "high", **creds},
        }
    )
    router = Router(
        RoutingConfig(routing=[RoutingRule(category="missing_legal_entity", owner="deal-desk")])
    )
    inbox[1].clear()
    store = GoldenStore(open_engine(f"sqlite:///{tmp_path}/golden.db"))
    return ExceptionStore(store.engine, router, notify=Notifier(config).notify)


def table(servicenow: ServiceNowEmulator, name: str, **params: str) -> list[dict[str, Any]]:
    creds = servicenow.credentials()
    response = httpx.get(
        f"{servicenow.base_url}/api/now/table/{name}",
        params=params,
        auth=(creds["username"], creds["password"]),
    )
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["result"]
    return result


def incidents(servicenow: ServiceNowEmulator, exc_id: str, **params: str) -> list[dict[str, Any]]:
    return table(servicenow, "incident", sysparm_query=f"correlation_id={exc_id}", **params)


def test_high_severity_exception_opens_one_incident_and_a_signed_webhook(
    exceptions: ExceptionStore, servicenow: ServiceNowEmulator, inbox: tuple[str, list[Any]]
) -> None:
    new = NewException(
        category="missing_legal_entity",
        message="Umbrella Health has no legal entity",
        entity_type="Account",
        record_id="acc-4",
        details={"field": "legal_entity_id"},
    )
    exc = exceptions.raise_(new)
    (incident,) = incidents(servicenow, exc.id)
    (group,) = [g for g in table(servicenow, "sys_user_group") if g["name"] == "deal-desk"]
    # A reference field: the group's sys_id, which the Table API returns as {link, value}.
    assert incident["assignment_group"]["value"] == group["sys_id"]
    assert incident["assignment_group"]["link"].endswith(f"/sys_user_group/{group['sys_id']}")
    assert "missing_legal_entity" in incident["short_description"]
    assert exc.details["incident"]["number"] == incident["number"]
    headers, body = inbox[1][0]
    assert verify(headers, body, (SECRET,), now=time.time()) == headers["webhook-id"]
    assert b'"payload"' not in body and b"acc-4" in body
    # Raised again while open: refreshed, not re-notified, still one incident.
    exceptions.raise_(new)
    assert len(incidents(servicenow, exc.id)) == 1 and len(inbox[1]) == 1


def test_low_severity_only_goes_to_the_webhook(
    exceptions: ExceptionStore, servicenow: ServiceNowEmulator, inbox: tuple[str, list[Any]]
) -> None:
    exc = exceptions.raise_(
        NewException(category="non_owner_write", message="CRM set tax_id", record_id="acc-1")
    )
    assert incidents(servicenow, exc.id) == []
    assert len(inbox[1]) == 1 and "incident" not in exc.details


def test_an_owner_without_a_servicenow_group_opens_an_unassigned_incident_that_says_so(
    tmp_path: Path, servicenow: ServiceNowEmulator
) -> None:
    creds = servicenow.credentials()
    config = NotifyConfig.model_validate(
        {"servicenow": {"base_url": servicenow.base_url, "min_severity": "low", **creds}}
    )
    router = Router(RoutingConfig(routing=[RoutingRule(category="orphan", owner="nobody-here")]))
    store = GoldenStore(open_engine(f"sqlite:///{tmp_path}/golden.db"))
    exceptions = ExceptionStore(store.engine, router, notify=Notifier(config).notify)
    exc = exceptions.raise_(NewException(category="orphan", message="line without deal"))
    (incident,) = incidents(servicenow, exc.id, sysparm_display_value="true")
    assert incident["assignment_group"] == ""
    assert "nobody-here" in incident["description"]


def test_the_incident_shows_its_group_by_name_with_display_values(
    exceptions: ExceptionStore, servicenow: ServiceNowEmulator
) -> None:
    exc = exceptions.raise_(
        NewException(category="missing_legal_entity", message="no entity", record_id="acc-9")
    )
    (shown,) = incidents(servicenow, exc.id, sysparm_display_value="true")
    assert shown["assignment_group"]["display_value"] == "deal-desk"
    (both,) = incidents(servicenow, exc.id, sysparm_display_value="all")
    assert both["assignment_group"]["display_value"] == "deal-desk"
    assert len(both["assignment_group"]["value"]) == 32
