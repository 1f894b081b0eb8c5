"""Dynamics 365 Project Operations (Dataverse Web API); httpx and authlib load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.connectors.dynamics.settings import DynamicsSettings

if TYPE_CHECKING:
    from pssync.connectors.dynamics.connector import DynamicsConnector

__all__ = ["DynamicsConnector", "DynamicsSettings"]


def __getattr__(name: str) -> Any:
    if name == "DynamicsConnector":
        from pssync.connectors.dynamics.connector import DynamicsConnector

        return DynamicsConnector
    raise AttributeError(name)
