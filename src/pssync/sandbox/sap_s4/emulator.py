"""SapS4Emulator: SAP S/4HANA's OData v2 APIs for partners, projects, billing and postings.

pssync reaches the real system through pyodata over ``/sap/opu/odata/sap/<SERVICE>/``; this
emulator serves the same three services on loopback, with SAP's basic auth, CSRF handshake,
JSON shapes, paging and error envelope, over SQLite state that survives between requests.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from pssync.sandbox.common.emulator import Emulator
from pssync.sandbox.common.faults import ASGIApp, FaultConfig
from pssync.sandbox.sap_s4.app import SapApp
from pssync.sandbox.sap_s4.errors import ERROR_CONTENT_TYPE, error_document
from pssync.sandbox.sap_s4.records import Repository
from pssync.sandbox.sap_s4.schema import SERVICE_ROOT, SERVICES, service_of

# Seed order matters: elements reference projects.
SEED_ORDER = (
    "A_BusinessPartner",
    "A_BusinessPartnerRole",
    "A_Customer",
    "A_CustomerCompany",
    "A_EnterpriseProject",
    "A_EnterpriseProjectElement",
    "A_BillingDocument",
    "A_JournalEntryItemBasic",
    "A_OperationalAcctgDocItemCube",
    "A_SalesOrder",
    "A_SalesOrderItem",
    "A_SalesOrderBillingPlan",
    "A_SalesOrderBillingPlanItem",
)


class SapS4Emulator(Emulator):
    """Three SAP OData v2 services; `credentials()` gives the basic-auth user and service paths."""

    name = "sap_s4"

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
        page_size: int = 1000,
        username: str = "PSSYNC_COMM_USER",
        password: str | None = None,
    ) -> None:
        # Set before the base class builds the app.
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self.page_size = page_size
        super().__init__(state_dir=state_dir, faults=faults, port=port)

    def build_app(self) -> ASGIApp:
        self.repo = Repository(self.store, self.username)
        self.app = SapApp(self.repo, self.username, self.password, self.page_size)
        return self.app.asgi()  # type: ignore[return-value]

    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        return ERROR_CONTENT_TYPE, error_document(status, reason)

    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        """Load ``firm.views["sap_s4"]``: entity-set name -> vendor-shaped rows."""
        unknown = set(view) - set(SEED_ORDER)
        if unknown:
            raise ValueError(f"sap_s4 has no entity set(s) {sorted(unknown)}")
        for set_name in SEED_ORDER:
            entity_set = service_of(set_name).entity_set(set_name)
            assert entity_set is not None
            self.repo.load(entity_set, view.get(set_name, []))

    def credentials(self) -> dict[str, str]:
        creds = {"username": self.username, "password": self.password, "sap_client": "100"}
        for service in SERVICES:
            creds[f"service_url:{service}"] = f"{self.base_url}{SERVICE_ROOT}/{service}/"
        return creds

    def service_url(self, service: str) -> str:
        """Root URL of one service (with trailing slash, as pyodata expects)."""
        if service not in SERVICES:
            raise KeyError(service)
        return f"{self.base_url}{SERVICE_ROOT}/{service}/"
