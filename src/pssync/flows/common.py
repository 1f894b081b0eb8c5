"""What every flow needs: which system plays which part, governed golden writes, and a
synchronous delivery for ordered, multi-step writes.

Single-record propagation goes through the engine's routes and delivery queues. A flow that must
write several records in order (an ERP customer before the project that references it, a PSA
workspace before its tasks) runs as its own DBOS workflow and delivers each step here with the
engine's own `send` — same rendering, no-op suppression, ledger, xref links and failure
classification — retrying transient failures and dead-lettering permanent ones, so a failed
step is an exception with an owner and a replay like any other delivery.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pssync.engine.dead_letter import dead_letter
from pssync.engine.deliver import send
from pssync.engine.echo import Ledger
from pssync.engine.outbound import Command
from pssync.engine.runtime import Runtime
from pssync.governance.gate import write_governed
from pssync.model import parse_record
from pssync.store import Change
from pssync.store.history import utcnow

FLOW_SYSTEM = "pssync"  # provenance of records a flow derives itself (trusted writes)


class NoSystemError(LookupError):
    """No connected system plays the part a flow needs."""


def systems_with_role(runtime: Runtime, role: str) -> list[str]:
    return sorted(s for s, r in runtime.roles.items() if r == role and s in runtime.connectors)


def system_for(runtime: Runtime, role: str) -> str:
    found = systems_with_role(runtime, role)
    if not found:
        raise NoSystemError(f"no connected {role} system")
    return found[0]


def erp_for(runtime: Runtime, legal_entity_id: str | None) -> tuple[str, str] | None:
    """(ERP system, its code for the legal entity): the ERP whose `legal_entity` crosswalk
    knows the entity. The firm keeps one ERP per legal entity (NetSuite for US01, ...)."""
    for system in systems_with_role(runtime, "erp"):
        translator = runtime.translators.get(system)
        table = translator.spec.crosswalks.get("legal_entity", {}) if translator else {}
        for code, canonical in table.items():
            if canonical == legal_entity_id:
                return system, code
    return None


def source_id(runtime: Runtime, entity_type: str, record_id: str, system: str) -> str | None:
    """The ID `system` gives the canonical record (any of its objects)."""
    for key, value in sorted(runtime.store.xrefs(entity_type, record_id).items()):
        if key.partition(":")[0] == system:
            return value
    return None


def project_for(runtime: Runtime, opportunity_id: str, derived: str) -> str:
    """The deal's project: one the PSA already has for it (the firm's own), else `derived`."""
    found = sorted(
        v.record_id
        for v in runtime.store.iter_records("Project")
        if v.payload.get("opportunity_id") == opportunity_id
    )
    return derived if derived in found or not found else found[0]


def payload(runtime: Runtime, entity_type: str, record_id: str) -> dict[str, Any] | None:
    version = runtime.store.get(entity_type, record_id)
    return None if version is None else version.payload


def write(
    runtime: Runtime,
    entity_type: str,
    data: dict[str, Any],
    system: str = FLOW_SYSTEM,
    *,
    valid_from: dt.datetime | None = None,
    correlation_id: str | None = None,
) -> None:
    """A golden write through the system-of-record gate. `system` is who vouches for the data:
    the ERP system for what the ERP confirmed (project code), `pssync` for derived records."""
    record = parse_record(entity_type, data)
    write_governed(
        runtime.store,
        runtime.policy,
        [Change(record, valid_from or utcnow(), system, f"flow:{correlation_id or ''}")],
        runtime.roles,
        correlation_id=correlation_id,
    )


@dataclass
class Delivered:
    """What a synchronous delivery did: target IDs by external ID, and what failed."""

    ids: dict[str, str | None] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def deliver_now(
    runtime: Runtime,
    commands: Sequence[Command],
    correlation_id: str,
    max_attempts: int | None = None,
) -> Delivered:
    """Deliver commands (one target, object and key field) now; dead-letter what fails.

    Each command has its own attempts (the delivery policy's `max_attempts` unless given): a
    retriable failure of one record's call costs that record an attempt, not the whole batch
    (a draft's stories used to be dead-lettered together after 5 attempts of several calls
    each, even those an earlier attempt had created). An attempt after a failure finds what an
    earlier one created by its external reference and updates it, so nothing is created twice.
    """
    out = Delivered()
    if not commands:
        return out
    budget = max_attempts if max_attempts is not None else runtime.delivery.max_attempts
    for command in commands:
        _deliver_one(runtime, command, correlation_id, budget, out)
    first = commands[0]
    written = Ledger(runtime.store.engine).by_external_id(
        first.target, first.object, [c.external_id for c in commands]
    )
    for command in commands:
        if command.external_id not in out.failed:
            known = written.get(command.external_id)
            out.ids[command.external_id] = None if known is None else known.target_id
    return out


def _deliver_one(
    runtime: Runtime, command: Command, correlation_id: str, budget: int, out: Delivered
) -> None:
    """`deliver_now` for one command: retry its retriable failures up to `budget` attempts."""
    pending, attempt = [command], 0
    while pending:
        result = send(runtime, pending, attempt)
        if result.failed:
            dead_letter(runtime, result.failed, attempt + 1, correlation_id)
            out.failed += [f["command"]["external_id"] for f in result.failed]
        if not result.retry:
            return
        attempt += 1
        pending = [Command.from_dict(c) for c in result.retry]
        if attempt >= budget:
            last = [{"command": c.as_dict(), "error": result.error} for c in pending]
            dead_letter(runtime, last, attempt, correlation_id)
            out.failed += [c.external_id for c in pending]
            return
        time.sleep(min(result.delay, runtime.delivery.max_delay))
