"""SAP S/4HANA connector (OData v2 through pyodata).

Importing this package is cheap: pyodata and requests load only when `SapS4Connector` is first
used, so `pssync` commands that never touch SAP do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.connectors.sap_s4.settings import SapS4Settings

if TYPE_CHECKING:
    from pssync.connectors.sap_s4.connector import SapS4Connector

__all__ = ["SapS4Connector", "SapS4Settings"]


def __getattr__(name: str) -> Any:
    if name == "SapS4Connector":
        from pssync.connectors.sap_s4.connector import SapS4Connector

        return SapS4Connector
    raise AttributeError(name)
