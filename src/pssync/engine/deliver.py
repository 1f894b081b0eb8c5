"""Delivery of outbound commands to one target system: render, suppress no-ops, upsert, classify.

`send` is one attempt at one batch. It renders each command's canonical payload into the
target's fields at send time, drops those the target already holds from pssync's last write
(no-op suppression), upserts the rest by the deterministic external ID (so a repeated attempt
updates instead of duplicating) and classifies what happened the way the connector contract
says: per-record permanent failures, a retriable failure of the whole attempt (with the
server's Retry-After), quota exhaustion (pause until the reset) or refused credentials.
The durable retry loop around it lives in `workflows.deliver_batch`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from pssync.connectors.base import Outcome
from pssync.connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    QuotaExhaustedError,
    RetriableError,
)
from pssync.engine.circuit import Breaker
from pssync.engine.deliver_claims import Claims
from pssync.engine.echo import PENDING, Ledger, Written, is_noop, written_hash
from pssync.engine.outbound import Command
from pssync.engine.runtime import DeliveryPolicy, Runtime
from pssync.mapping.translator import TranslationError
from pssync.store.history import utcnow


@dataclass
class SendResult:
    """One attempt's outcome, as plain data so DBOS can record it as a step result."""

    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # {"command", "error"}
    retry: list[dict[str, Any]] = field(default_factory=list)  # commands to try again
    delay: float = 0.0
    error: dict[str, Any] | None = None
    quota: bool = False
    busy: bool = False  # only records another delivery holds are left: wait, not a failure

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def error_info(exc: ConnectorError | TranslationError, category: str) -> dict[str, Any]:
    """The facts a dead letter needs about a failure."""
    info: dict[str, Any] = {"class": type(exc).__name__, "message": str(exc), "category": category}
    if isinstance(exc, ConnectorError):
        info.update(vendor_code=exc.vendor_code, status=exc.status, field=exc.field)
    if isinstance(exc, RetriableError):
        info["retry_after"] = exc.retry_after
    return info


def backoff(attempt: int, policy: DeliveryPolicy, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never shorter than the server's Retry-After."""
    ceiling = min(policy.max_delay, policy.base_delay * (2**attempt))
    delay = random.uniform(ceiling / 2, ceiling)  # jitter, not security
    return max(delay, retry_after or 0.0)


def refreshed(runtime: Runtime, command: Command) -> Command:
    """The command with the golden record's current payload.

    Batches for one record can run out of order (separate workflows on a concurrent queue, a
    retry sleeping while a later change is delivered, a replay days later); sending what the
    golden store holds *now* makes the last write carry the newest content either way.
    """
    current = runtime.store.get(command.entity_type, command.record_id)
    if current is None:
        return command
    data = command.as_dict()
    data["payload"] = current.payload
    return Command.from_dict(data)


def render(runtime: Runtime, command: Command) -> dict[str, Any]:
    """The target's fields for a command (defaults, mapped fields, the external ID)."""
    mapped = runtime.translator(command.target).to_vendor(command.object, command.payload)
    return {**command.defaults, **mapped, command.external_id_field: command.external_id}


def send(runtime: Runtime, commands: list[Command], attempt: int = 0) -> SendResult:
    """One attempt to deliver `commands` (same target, object and external-ID field): those
    another delivery holds right now (`deliver_claims`) are left for a later attempt."""
    if not commands:
        return SendResult()
    target, obj = commands[0].target, commands[0].object
    claims = Claims(runtime.store.engine)
    mine = claims.take(target, obj, [c.external_id for c in commands])
    try:
        result = _send(runtime, [c for c in commands if c.external_id in mine], attempt)
    finally:
        claims.release(target, obj, mine)
    busy = [c.as_dict() for c in commands if c.external_id not in mine]
    if busy:
        result.retry += busy
        if result.error is None:
            result.busy = True
            result.delay = max(result.delay, backoff(0, runtime.delivery))
    return result


def _send(runtime: Runtime, commands: list[Command], attempt: int) -> SendResult:
    result = SendResult()
    if not commands:
        return result
    first = commands[0]
    target, obj, ext_field = first.target, first.object, first.external_id_field
    ledger = Ledger(runtime.store.engine)
    policy = runtime.delivery
    breaker = Breaker(runtime.store.engine, policy.breaker_threshold, policy.breaker_cooldown)
    previous = ledger.by_external_id(target, obj, [c.external_id for c in commands])
    batch: list[tuple[Command, dict[str, Any]]] = []
    for command in (refreshed(runtime, c) for c in commands):
        try:
            vendor = render(runtime, command)
        except TranslationError as exc:
            result.failed.append(
                {"command": command.as_dict(), "error": error_info(exc, "delivery_failed")}
            )
            continue
        if is_noop(previous.get(command.external_id), vendor):
            result.skipped += 1
        else:
            batch.append((command, vendor))
    if not batch:
        return result
    # Creates are noted before they are sent: a poll of the target may read them back before
    # this send returns (`echo.Ledger.intend`).
    ledger.intend(
        [
            Written(target, obj, c.external_id, None, c.entity_type, c.record_id, PENDING, v)
            for c, v in batch
            if c.external_id not in previous
        ]
    )
    try:
        outcomes = runtime.connector(target).upsert(obj, ext_field, [v for _, v in batch])
    except RetriableError as exc:
        opened = breaker.failure(target, str(exc))
        result.retry = [c.as_dict() for c, _ in batch]
        result.error = error_info(exc, "delivery_failed")
        result.delay = max(backoff(attempt, policy, exc.retry_after), opened)
        return result
    except QuotaExhaustedError as exc:
        until = exc.resets_at or utcnow() + dt.timedelta(seconds=policy.max_delay)
        breaker.open_until(target, until, str(exc))
        result.retry = [c.as_dict() for c, _ in batch]
        result.error = error_info(exc, "delivery_failed")
        result.delay, result.quota = max(1.0, (until - utcnow()).total_seconds()), True
        return result
    except AuthError as exc:
        breaker.open_until(
            target, utcnow() + dt.timedelta(seconds=policy.breaker_cooldown), str(exc)
        )
        info = error_info(exc, "auth_failure")
        result.failed += [{"command": c.as_dict(), "error": info} for c, _ in batch]
        return result
    except PermanentError as exc:
        info = error_info(exc, "delivery_failed")
        result.failed += [{"command": c.as_dict(), "error": info} for c, _ in batch]
        return result
    breaker.success(target)
    written: list[Written] = []
    for (command, vendor), outcome in zip(batch, outcomes, strict=True):
        if outcome.outcome is Outcome.FAILED:
            error = outcome.error or PermanentError("failed without a reason", system=target)
            result.failed.append(
                {"command": command.as_dict(), "error": error_info(error, "delivery_failed")}
            )
            continue
        if outcome.outcome is Outcome.UNCHANGED:
            result.unchanged += 1
        else:
            result.written += 1
        written.append(
            Written(
                target,
                obj,
                command.external_id,
                outcome.id,
                command.entity_type,
                command.record_id,
                written_hash(vendor),
                vendor,
            )
        )
    ledger.record(written)
    return result
