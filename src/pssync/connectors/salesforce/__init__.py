"""Salesforce connector (REST API through simple-salesforce), with a Certinia PSA profile.

Importing this package is cheap: simple-salesforce, requests and authlib load only when
`SalesforceConnector` is first used, so `pssync` commands that never touch Salesforce do not pay
for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.connectors.salesforce.settings import SalesforceSettings

if TYPE_CHECKING:
    from pssync.connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceConnector", "SalesforceSettings"]


def __getattr__(name: str) -> Any:
    if name == "SalesforceConnector":
        from pssync.connectors.salesforce.connector import SalesforceConnector

        return SalesforceConnector
    raise AttributeError(name)
