"""The live objects the engine's workflows need, held once per process.

DBOS workflows are replayed from their (serialised) inputs, so their arguments are plain JSON
values and everything that cannot be serialised — the golden store, connectors, translators,
routes — is looked up here. A worker sets the runtime before launching DBOS; a recovered
workflow therefore finds the same collaborators as the one that started it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pssync.connectors.base import Connector
from pssync.engine.ports import ExceptionSink, FieldOwnership, OpenPolicy
from pssync.engine.stages import Stages
from pssync.mapping.translator import Translator
from pssync.store import GoldenStore


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retries, circuit breaker and quota pause of the delivery queues."""

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 5.0
    max_quota_wait: float = 3600.0


@dataclass(frozen=True)
class CycleStep:
    """Work a worker cycle does after polling (`worker.run_cycle`): re-pointing references
    that became resolvable, starting the flows' workflows. `run` returns how much it did."""

    name: str
    run: Callable[[Runtime], int]


@dataclass
class Runtime:
    """Everything a workflow touches besides its inputs.

    `connectors` holds factories, not instances: DBOS runs workflows on a thread pool and HTTP
    client sessions are not shared across threads, so each thread builds its own connector.
    `roles` maps system name -> crm/psa/erp for the system-of-record matrix. `stages` are the
    govern and store stages every page runs through and `after_poll` what each worker cycle
    does after polling; the runtime builder (`pssync.runtime`) fills both.
    """

    store: GoldenStore
    exceptions: ExceptionSink
    connectors: dict[str, Callable[[], Connector]] = field(default_factory=dict)
    translators: dict[str, Translator] = field(default_factory=dict)
    roles: dict[str, str | None] = field(default_factory=dict)
    policy: FieldOwnership = field(default_factory=OpenPolicy)
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    routes: list[str] = field(default_factory=lambda: ["account_to_erp"])
    stages: Stages = field(default_factory=Stages)
    after_poll: list[CycleStep] = field(default_factory=list)
    flows_enabled: bool = False  # the business flows run after each poll (pssync.flows)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def connector(self, system: str) -> Connector:
        """This thread's connector for `system`."""
        cache: dict[str, Connector] | None = getattr(self._local, "connectors", None)
        if cache is None:
            cache = self._local.connectors = {}
        if system not in cache:
            try:
                factory = self.connectors[system]
            except KeyError:
                raise LookupError(f"no connector configured for system {system!r}") from None
            cache[system] = factory()
        return cache[system]

    def translator(self, system: str) -> Translator:
        try:
            return self.translators[system]
        except KeyError:
            raise LookupError(f"no mapping configured for system {system!r}") from None

    def role(self, system: str) -> str | None:
        return self.roles.get(system)


_current: Runtime | None = None


class NoRuntimeError(RuntimeError):
    """The engine was asked to run before a worker configured it."""


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise NoRuntimeError("the sync engine is not configured in this process (set_runtime)")
    return _current


def configured() -> bool:
    return _current is not None
