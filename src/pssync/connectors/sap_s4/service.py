"""What the connector's helpers (writes, handoff bodies, postings reads) need of it: one
`Protocol`, so they name no connector class and the connector imports them, not the reverse."""

from __future__ import annotations

from typing import Any, Protocol

from pssync.connectors.sap_s4.objects import SapObject
from pssync.connectors.sap_s4.settings import SapS4Settings
from pssync.connectors.sap_s4.transport import CsrfToken


class SapService(Protocol):
    """The OData services of one SAP S/4HANA system, as `SapS4Connector` provides them."""

    @property
    def config(self) -> SapS4Settings: ...

    @property
    def csrf(self) -> CsrfToken: ...

    @property
    def write_batch_size(self) -> int: ...

    def client(self, service: str) -> Any: ...

    def entity_set(self, sap: SapObject) -> Any: ...

    def properties(self, sap: SapObject) -> list[Any]: ...

    def property_map(self, sap: SapObject) -> dict[str, Any]: ...

    def navigations(self, sap: SapObject) -> list[str]: ...

    def plain(self, sap: SapObject, entity: Any) -> dict[str, Any]: ...

    def fetch(
        self,
        sap: SapObject,
        *,
        top: int,
        skip: int = 0,
        filter_: str | None = None,
        order_by: str | None = None,
        count: bool = False,
        etags: dict[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]: ...

    def read_keys(
        self, sap: SapObject, keys: list[str], etags: dict[str, str]
    ) -> list[dict[str, Any]]: ...

    def partner_uuid(self, business_partner: str) -> str | None: ...
