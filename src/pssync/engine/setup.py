"""The engine's parts from `pssync.yaml`: connector factories and mapping translators.

Each configured connector becomes a factory (the connector class from the registry, its typed
settings from the file and the environment); its ``mapping`` file becomes its translator.
A connector without a mapping can still be written to by routes that render nothing, but
cannot be captured from; `capturable` lists the (system, object) pairs that can. The runtime
builder (`pssync.runtime`) puts them together with governance and the flows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from pssync.config.settings import ConnectorConfig
from pssync.connectors.base import Connector
from pssync.connectors.registry import connector_class
from pssync.engine.runtime import Runtime


def connector_settings(config: ConnectorConfig, model_fields: set[str]) -> dict[str, Any]:
    """The connector's typed-settings input: known top-level keys plus `options`."""
    values: dict[str, Any] = {}
    for name, value in config.model_dump(exclude={"type", "role", "mapping", "options"}).items():
        if value is None or name not in model_fields:
            continue
        values[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    values.update({k: v for k, v in config.options.items() if k in model_fields})
    return values


def connector_factory(config: ConnectorConfig) -> Callable[[], Connector]:
    cls = connector_class(config.type)
    model = cls.settings_model
    settings = model(**connector_settings(config, set(model.model_fields)))

    def build() -> Connector:
        return cls(settings)

    return build


def capturable(runtime: Runtime) -> list[tuple[str, str]]:
    """(system, object) pairs with both a connector and a mapping."""
    return [
        (system, obj)
        for system, translator in sorted(runtime.translators.items())
        if system in runtime.connectors
        for obj in translator.spec.objects
    ]
