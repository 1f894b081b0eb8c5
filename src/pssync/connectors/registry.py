"""Find a connector class by name: built-ins by module path, third parties by entry point.

A package ships a connector by declaring, in its pyproject.toml,
``[project.entry-points."pssync.connectors"] mysystem = "my_pkg.connector:MyConnector"``.
Built-ins are imported lazily so that a heavy client library loads only when its connector is used.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from pssync.connectors.base import Connector
from pssync.connectors.builtin import BUILTIN

ENTRY_POINT_GROUP = "pssync.connectors"


class UnknownConnectorError(LookupError):
    pass


def _builtins() -> dict[str, str]:
    """The connectors shipped with pssync (declared in `connectors.builtin`)."""
    return BUILTIN


def available() -> list[str]:
    names = set(_builtins()) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def _load(target: str) -> type[Connector]:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"{target} is not a pssync Connector subclass")
    return cls


def connector_class(name: str) -> type[Connector]:
    """The connector class registered under `name`."""
    if name in _builtins():
        return _load(BUILTIN[name])
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return _load(ep.value)
    raise UnknownConnectorError(
        f"no connector {name!r}; available: {', '.join(available()) or 'none'}"
    )
