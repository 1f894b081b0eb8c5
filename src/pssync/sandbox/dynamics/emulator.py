"""DynamicsEmulator: Dynamics 365 Project Operations on the Dataverse Web API (OData v4).

`seed` loads rows by entity set (``{"accounts": [...], "msdyn_projects": [...]}``) in the
shape reads show them (lookups as ``_<name>_value``); `credentials` hands out the app
registration (tenant, client ID and secret) and the token URL; injected faults answer in the
Web API's error envelope, a 429 as the service protection limit with Retry-After.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Any, cast

from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import ASGIApp, FaultConfig
from pssync.sandbox.common.memtable import MemTable
from pssync.sandbox.dynamics.api import DataverseApi
from pssync.sandbox.dynamics.errors import injected_error
from pssync.sandbox.dynamics.service import DataverseService


class DynamicsEmulator(Emulator):
    """Accounts, contacts, opportunities, projects, tasks and resource assignments."""

    name = "dynamics"
    quota_status = 429  # Dataverse's only limit is service protection: a 429, never a 403

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
    ) -> None:
        self.tenant_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.client_secret = secrets.token_urlsafe(24)
        self.tokens: set[str] = set()
        super().__init__(state_dir=state_dir, faults=faults, port=port)
        self.service = DataverseService(MemTable(self.store))  # before the first request

    def build_app(self) -> ASGIApp:
        # Starlette types its ASGI callables with MutableMapping; the base uses dict.
        return cast(ASGIApp, DataverseApi(self).app())

    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        return injected_error(status, reason)

    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        for set_name, rows in view.items():
            self.service.seed(set_name, rows)

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    def credentials(self) -> dict[str, str]:
        return {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "token_url": self.token_url,
            "api_base": f"{self.base_url}/api/data/v9.2",
        }
