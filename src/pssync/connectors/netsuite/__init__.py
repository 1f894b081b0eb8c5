"""NetSuite connector (SuiteTalk REST: SuiteQL reads, record API upserts, TBA or OAuth 2.0).

Importing this package is cheap: httpx, authlib and cryptography load only when
`NetSuiteConnector` is first used, so `pssync` commands that never touch NetSuite do not pay
for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.connectors.netsuite.settings import NetSuiteSettings

if TYPE_CHECKING:
    from pssync.connectors.netsuite.connector import NetSuiteConnector

__all__ = ["NetSuiteConnector", "NetSuiteSettings"]


def __getattr__(name: str) -> Any:
    if name == "NetSuiteConnector":
        from pssync.connectors.netsuite.connector import NetSuiteConnector

        return NetSuiteConnector
    raise AttributeError(name)
