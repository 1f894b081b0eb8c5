"""File-drop connector: a legacy ERP reached only through folders of CSV files.

Importing this package loads only the settings; the connector itself is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pssync.connectors.filedrop.settings import FileDropSettings

if TYPE_CHECKING:
    from pssync.connectors.filedrop.connector import FileDropConnector

__all__ = ["FileDropConnector", "FileDropSettings"]


def __getattr__(name: str) -> Any:
    if name == "FileDropConnector":
        from pssync.connectors.filedrop.connector import FileDropConnector

        return FileDropConnector
    raise AttributeError(name)
