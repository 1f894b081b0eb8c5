"""Build a runtime from settings (`build_runtime`), or equip one with governance (`govern`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pssync.config.settings import ConfigError, Settings
from pssync.engine.reconcile_columns import compared_fields
from pssync.engine.runtime import CycleStep, Runtime
from pssync.engine.setup import connector_factory
from pssync.governance.check_policy import problems as check_problems
from pssync.governance.notify import exception_store
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.repoint import repoint
from pssync.governance.stages import governance_stages
from pssync.mapping.translator import Translator
from pssync.runtime.mappings import mapping_spec
from pssync.runtime.replay import register_replays
from pssync.store import GoldenStore, compare_digest, open_engine


def govern(runtime: Runtime, modes: Mapping[str, str] | None = None) -> Runtime:
    """Give `runtime` governance's stages (over its own matrix, with the checks' `modes`) and
    the re-pointing step after each poll; returns it. Every runtime the builder makes has them."""
    runtime.stages = governance_stages(runtime.policy, modes)
    if not any(step.name == "repointed" for step in runtime.after_poll):
        runtime.after_poll.insert(0, CycleStep("repointed", repoint))
    register_replays()
    return runtime


def build_runtime(settings: Settings, base: Path | None = None) -> Runtime:
    """The runtime a worker, `pssync sync`, `pssync serve` or the demo runs with: governed
    always; with the business flows' routes and dispatch when `flows:` is configured."""
    if wrong := check_problems(settings.checks):
        raise ConfigError(
            "pssync.yaml", [(m.split(": ", 1)[0], m.split(": ", 1)[1]) for m in wrong]
        )
    store = GoldenStore(open_engine(settings.database_url))
    runtime = Runtime(
        store=store,
        exceptions=exception_store(store.engine, settings.exceptions, settings.notify),
        policy=OwnershipPolicy(settings.system_of_record),
    )
    for name, config in settings.connectors.items():
        runtime.connectors[name] = connector_factory(config)
        runtime.roles[name] = config.role
        # The connector's shipped mapping when the file names none, with the file's crosswalk
        # overrides and default currency applied.
        if (spec := mapping_spec(settings, name, base)) is not None:
            runtime.translators[name] = translator = Translator(spec)
            # This process's golden writes keep the digests reconciliation compares with.
            for obj in spec.objects:
                if (fields := compared_fields(translator, obj)) is not None:
                    compare_digest.register(name, obj, fields)
    govern(runtime, settings.checks)
    if settings.flows:
        from pssync.flows.runner import configure, dispatch_step

        configure(runtime, settings.flows)
        # Dispatch re-points first (a deal whose account was just fixed is drafted with it).
        runtime.after_poll = [CycleStep("flows started", dispatch_step)]
        runtime.flows_enabled = True
    return runtime
