"""Build the engine's runtime from `pssync.yaml`: connectors, mappings, roles, ownership.

Each configured connector becomes a factory (the connector class from the registry, its typed
settings from the file and the environment); its ``mapping`` file becomes its translator.
A connector without a mapping can still be written to by routes that render nothing, but
cannot be captured from; `capturable` lists the (system, object) pairs that can.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from pssync.config.settings import ConnectorConfig, Settings
from pssync.connectors.base import Connector
from pssync.connectors.registry import connector_class
from pssync.engine.runtime import Runtime
from pssync.governance.notify import exception_store
from pssync.governance.ownership import OwnershipPolicy
from pssync.mapping.translator import Translator
from pssync.store import GoldenStore, open_engine


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


def runtime_from_settings(settings: Settings, base: Path | None = None) -> Runtime:
    """The runtime a worker or `pssync sync` runs with."""
    store = GoldenStore(open_engine(settings.database_url))
    exceptions = exception_store(store.engine, settings.exceptions, settings.notify)
    runtime = Runtime(
        store=store,
        exceptions=exceptions,
        policy=OwnershipPolicy(settings.system_of_record),
    )
    for name, config in settings.connectors.items():
        runtime.connectors[name] = connector_factory(config)
        runtime.roles[name] = config.role
        if (spec := settings.mapping_spec(name, base)) is not None:  # builtin when omitted
            runtime.translators[name] = Translator(spec)
    if settings.flows:
        # The business flows replace the built-in account route with their own routes and
        # plug governance into the pipeline (imported here: flows build on the engine).
        from pssync.flows.runner import configure

        configure(runtime, settings.flows)
        runtime.flows_enabled = True
    return runtime


def capturable(runtime: Runtime) -> list[tuple[str, str]]:
    """(system, object) pairs with both a connector and a mapping."""
    return [
        (system, obj)
        for system, translator in sorted(runtime.translators.items())
        if system in runtime.connectors
        for obj in translator.spec.objects
    ]
