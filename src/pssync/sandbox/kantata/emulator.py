"""KantataEmulator: the PSA of the sandbox, speaking the Kantata OX (Mavenlink) API v1.

`seed` loads the synthetic firm's Kantata view (`{"workspaces": [...], "users": [...], ...}`,
records in Kantata's field names); `credentials` hands out the bearer token; injected faults
answer in Kantata's `{"errors": [...]}` shape.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, cast

from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import ASGIApp, FaultConfig
from pssync.sandbox.common.memtable import MemTable
from pssync.sandbox.kantata.api import KantataApi
from pssync.sandbox.kantata.errors import injected_error
from pssync.sandbox.kantata.service import KantataService


class KantataEmulator(Emulator):
    """Kantata OX API v1: workspaces, stories, users, roles, allocations, time, invoices."""

    name = "kantata"

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
    ) -> None:
        self.token = secrets.token_urlsafe(32)
        self.tokens = {self.token}
        super().__init__(state_dir=state_dir, faults=faults, port=port)
        self.table = MemTable(self.store)
        self.service = KantataService(self.table)

    def build_app(self) -> ASGIApp:
        # Starlette types its ASGI callables with MutableMapping; the base uses dict.
        return cast(ASGIApp, KantataApi(self).app())

    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        return injected_error(status, reason)

    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        for key, rows in view.items():
            self.service.seed(key, rows)

    def credentials(self) -> dict[str, str]:
        return {"token": self.token, "api_base": f"{self.base_url}/api/v1"}
