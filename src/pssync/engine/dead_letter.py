"""Dead letter channel: permanent delivery failures become exceptions someone owns, and
`pssync exceptions replay` re-sends them once the cause is fixed.

An exception carries the error class, the vendor's code, HTTP status and field, the number of
attempts, the correlation ID (the delivery workflow) and the command as its payload. Replay
re-renders the command from the golden record as it is now — the usual fix is correcting the
record upstream or a crosswalk — and sends it once, synchronously, recording the outcome.
"""

from __future__ import annotations

import json
from typing import Any

from pssync.engine import runtime as engine_runtime
from pssync.engine.deliver import refreshed, send
from pssync.engine.outbound import Command
from pssync.engine.runtime import Runtime
from pssync.store.problems import NewException

CATEGORIES = ("delivery_failed", "auth_failure")


def dead_letter(
    runtime: Runtime, failures: list[dict[str, Any]], attempts: int, correlation_id: str
) -> list[str]:
    """Raise one exception per failed command; returns their IDs."""
    raised = []
    for failure in failures:
        command = Command.from_dict(failure["command"])
        error: dict[str, Any] = failure["error"]
        new = NewException(
            category=error.get("category", "delivery_failed"),
            message=f"{command.target} {command.object} {command.external_id}: {error['message']}",
            system=command.target,
            object=command.object,
            source_id=command.external_id,
            entity_type=command.entity_type,
            record_id=command.record_id,
            details={
                "error_class": error["class"],
                "vendor_code": error.get("vendor_code"),
                "status": error.get("status"),
                "field": error.get("field"),
                "attempts": attempts,
                "route": command.route,
            },
            payload=json.dumps(command.as_dict(), sort_keys=True, default=str),
            correlation_id=correlation_id,
        )
        raised.append(runtime.exceptions.raise_(new, actor="engine").id)
    return raised


def replay_delivery(ctx: object, exc: object, text: str) -> tuple[bool, str]:
    """Re-send one dead-lettered command: the replay handler of `CATEGORIES`, which the
    runtime builder registers with governance's replay (`pssync.runtime.replay`)."""
    if not engine_runtime.configured():
        return False, "the sync engine is not configured in this process; replay from a worker"
    runtime = engine_runtime.current()
    try:
        command = refreshed(runtime, Command.from_dict(json.loads(text)))
    except (ValueError, TypeError, KeyError) as err:
        return False, f"not a delivery command: {err}"
    outcome = send(runtime, [command])
    if outcome.failed:
        return False, str(outcome.failed[0]["error"]["message"])
    if outcome.retry:
        return False, f"target still failing: {outcome.error and outcome.error['message']}"
    state = "unchanged" if outcome.skipped or outcome.unchanged else "written"
    return True, f"{command.target} {command.object} {command.external_id} {state}"
