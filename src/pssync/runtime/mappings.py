"""Which mapping a connector translates with, and what `pssync.yaml` adds to it.

A connector entry without `mapping:` (or with ``mapping: builtin``) uses the mapping shipped in
its connector package (``connectors/<type>/mapping.yaml``; a Salesforce ``profile: certinia``
uses ``certinia.yaml``), so a file written by `pssync init` syncs without naming one. On top of
the mapping file come the crosswalk entries of the file's top-level `crosswalks:` block, then
those of the connector's own, and the default currency for amounts whose record names none
(the connector's `currency`, else `reporting_currency`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pssync.mapping.spec import MappingSpec, load_spec

if TYPE_CHECKING:
    from pssync.config.settings import ConnectorConfig, Settings

BUILTIN = "builtin"


def builtin_mapping(config: ConnectorConfig) -> Path | None:
    """The mapping file shipped next to the connector class (None: the package has none)."""
    from pssync.connectors.registry import connector_class

    cls = connector_class(config.type)
    module = sys.modules.get(cls.__module__)
    where = getattr(module, "__file__", None)
    if where is None:
        return None
    folder = Path(where).parent
    profile = str(config.options.get("profile") or "default")
    path = folder / ("mapping.yaml" if profile == "default" else f"{profile}.yaml")
    return path if path.is_file() else None


def mapping_path(config: ConnectorConfig, base: Path | None = None) -> Path | None:
    """The file named by `mapping` (relative to `base`, the config file's folder), or the
    connector's own when the key is omitted or says ``builtin``."""
    if config.mapping in (None, "", BUILTIN):
        return builtin_mapping(config)
    path = Path(str(config.mapping))
    return path if path.is_absolute() or base is None else base / path


def crosswalk_overrides(settings: Settings, name: str) -> dict[str, dict[str, str]]:
    """Top-level crosswalk entries, then the connector's own over them."""
    merged: dict[str, dict[str, str]] = {k: dict(v) for k, v in settings.crosswalks.items()}
    for walk, entries in settings.connectors[name].crosswalks.items():
        merged.setdefault(walk, {}).update(entries)
    return merged


def mapping_spec(settings: Settings, name: str, base: Path | None = None) -> MappingSpec | None:
    """Connector `name`'s mapping spec as `pssync sync` translates with it."""
    config = settings.connectors[name]
    path = mapping_path(config, base)
    if path is None:
        return None
    spec = load_spec(path, crosswalk_overrides(settings, name))
    spec.apply_default_currency(config.currency or settings.reporting_currency)
    return spec


def unused_crosswalks(settings: Settings, name: str, spec: MappingSpec) -> list[str]:
    """Crosswalks the connector's own `crosswalks:` block names that its mapping never uses
    (a typo there would otherwise be ignored in silence)."""
    used = spec.used_crosswalks()
    return sorted(w for w in settings.connectors[name].crosswalks if w not in used)
