"""Kantata OX connector (Mavenlink API v1 over httpx, bearer token).

Importing this package is cheap: httpx loads only when `KantataConnector` is first used, so
`pssync` commands that never touch the PSA do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.connectors.kantata.settings import KantataSettings

if TYPE_CHECKING:
    from pssync.connectors.kantata.connector import KantataConnector

__all__ = ["KantataConnector", "KantataSettings"]


def __getattr__(name: str) -> Any:
    if name == "KantataConnector":
        from pssync.connectors.kantata.connector import KantataConnector

        return KantataConnector
    raise AttributeError(name)
