"""Replay: try an exception's payload again after its cause (or the payload) was fixed.

Each source of exceptions registers how to replay its own: the import replays a canonical line,
the delivery engine re-sends a write. The outcome is recorded on the exception either way.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pssync.governance.exceptions import ExceptionRecord, ExceptionStore, NewException, State
from pssync.model import CanonicalValidationError
from pssync.store import GoldenStore
from pssync.store.jsonl import RejectedLine, parse_line


@dataclass
class ReplayContext:
    golden: GoldenStore
    exceptions: ExceptionStore
    cache: dict[str, Any] = field(default_factory=dict)  # what handlers share within one run


# (category, system) -> handler(context, exception, payload) -> (ok, note)
ReplayHandler = Callable[[ReplayContext, ExceptionRecord, str], tuple[bool, str]]
HANDLERS: dict[tuple[str, str | None], ReplayHandler] = {}


def register(category: str, system: str | None = None) -> Callable[[ReplayHandler], ReplayHandler]:
    def wrap(handler: ReplayHandler) -> ReplayHandler:
        HANDLERS[(category, system)] = handler
        return handler

    return wrap


# stage -> handler(context, exception, payload or None): for exceptions of a stage that carry
# nothing to re-send, e.g. the `govern` checks, which replay by checking again.
StageHandler = Callable[[ReplayContext, ExceptionRecord, str | None], tuple[bool, str]]
STAGE_HANDLERS: dict[str, StageHandler] = {}


def register_stage(stage: str) -> Callable[[StageHandler], StageHandler]:
    def wrap(handler: StageHandler) -> StageHandler:
        STAGE_HANDLERS[stage] = handler
        return handler

    return wrap


# category -> handler(context, exception, payload or None): for categories whose replay checks
# the record again (a conflict, a refused field, a deletion), whatever the stage that raised them.
CHECK_HANDLERS: dict[str, StageHandler] = {}


def register_check(category: str) -> Callable[[StageHandler], StageHandler]:
    def wrap(handler: StageHandler) -> StageHandler:
        CHECK_HANDLERS[category] = handler
        return handler

    return wrap


# Modules that register handlers when imported; loaded on first need, not at every CLI start-up
# (the engine pulls in DBOS, which costs a second of import time).
HANDLER_MODULES = (
    "pssync.runtime.replay",
    "pssync.runtime.replay_checks",
    "pssync.onboarding.replay",
)
_loaded: list[bool] = []


def _handler(category: str, system: str | None) -> ReplayHandler | None:
    if not _loaded:  # all of them: a system's own handler wins over a category-wide one
        for module in HANDLER_MODULES:
            importlib.import_module(module)
        _loaded.append(True)
    return HANDLERS.get((category, system)) or HANDLERS.get((category, None))


def replay(
    ctx: ReplayContext, exc: ExceptionRecord, *, payload: str | None = None, actor: str = "pssync"
) -> ExceptionRecord:
    """Replay one exception (with a corrected `payload` if given) and record the outcome."""
    if exc.state not in (State.OPEN, State.ASSIGNED):
        raise ValueError(f"exception {exc.id} is {exc.state}; reopen it before replaying")
    handler = _handler(exc.category, exc.system)
    text = payload if payload is not None else exc.payload
    by_stage = CHECK_HANDLERS.get(exc.category) or STAGE_HANDLERS.get(str(exc.details.get("stage")))
    if by_stage is not None and text is None:
        ok, note = by_stage(ctx, exc, text)
        return ctx.exceptions.record_attempt(exc.id, ok, note, actor)
    if handler is None or text is None:
        reason = (
            "nothing to replay" if text is None else f"no replay for {exc.category}/{exc.system}"
        )
        return ctx.exceptions.record_attempt(exc.id, False, reason, actor)
    if payload is not None:
        exc.payload = payload
    ok, note = handler(ctx, exc, text)
    return ctx.exceptions.record_attempt(exc.id, ok, note, actor)


@register("invalid_record", "import")
def _replay_import_line(ctx: ReplayContext, exc: ExceptionRecord, text: str) -> tuple[bool, str]:
    try:
        change = parse_line(text, "import")
    except (ValueError, CanonicalValidationError) as err:
        return False, str(err)
    result = ctx.golden.write([change], actor="replay")
    record = change.record
    return (
        True,
        f"{record.entity_type} {record.id}: {result.created} created, {result.updated} updated",
    )


def raise_import_rejects(
    exceptions: ExceptionStore, source: str, rejected: list[RejectedLine]
) -> list[ExceptionRecord]:
    """Turn each rejected import line into an exception carrying the line, so it can be fixed
    and replayed (`pssync exceptions replay ID --payload fixed.json`)."""
    raised = []
    for line in rejected:
        entity_type = record_id = None
        try:
            obj = json.loads(line.text)
            entity_type = str(obj.get("entity_type")) if isinstance(obj, dict) else None
            payload = obj.get("payload") if isinstance(obj, dict) else None
            record_id = str(payload.get("id")) if isinstance(payload, dict) else None
        except (json.JSONDecodeError, RecursionError):  # a hostile line stays a rejected one
            pass
        new = NewException(
            category="invalid_record",
            message=f"line {line.line_number}: {line.reason}",
            system="import",
            object=source,
            source_id=f"{source}:{line.line_number}",
            entity_type=entity_type,
            record_id=record_id,
            details={"line": line.line_number, "reason": line.reason},
            payload=line.text,
        )
        raised.append(exceptions.raise_(new, actor="import"))
    return raised
