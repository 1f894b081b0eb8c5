"""ServiceNowEmulator: the ITSM system of the sandbox, speaking the Table API with basic auth.

It starts empty (the synthetic firm has no ServiceNow view); `seed` accepts `{"incident": [...]}`
for tests that want history. Injected faults answer in ServiceNow's error shape.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, cast

from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import ASGIApp, FaultConfig
from pssync.sandbox.common.memtable import MemTable
from pssync.sandbox.servicenow.api import ServiceNowApi
from pssync.sandbox.servicenow.tables import TABLES, TableService


class ServiceNowEmulator(Emulator):
    """ServiceNow Table API for incident (and problem, change_request, sys_user)."""

    name = "servicenow"

    def __init__(
        self,
        *,
        username: str = "pssync.integration",
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
    ) -> None:
        self.username = username
        self.password = secrets.token_urlsafe(16)
        super().__init__(state_dir=state_dir, faults=faults, port=port)
        self.table = MemTable(self.store)
        self.service = TableService(self.table, username)

    def build_app(self) -> ASGIApp:
        # Starlette types its ASGI callables with MutableMapping; the base uses dict.
        return cast(ASGIApp, ServiceNowApi(self).app())

    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        message = {429: "Too many requests", 503: "Service Unavailable"}.get(status, reason)
        body = {"error": {"message": message, "detail": reason}, "status": "failure"}
        return "application/json", json.dumps(body).encode()

    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        for table, rows in view.items():
            if table not in TABLES:
                raise ValueError(f"ServiceNow emulator has no table {table!r}")
            self.service.seed(table, rows)

    def credentials(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}
