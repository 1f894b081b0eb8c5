"""What one page did, and its plain-data form.

A page step's result is pickled into DBOS's system database (and crosses the pipe from a page
process), a thousand decisions per page: each decision travels as a plain tuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pssync.engine.inbox import Decision, Event, Status


@dataclass
class PageResult:
    """What one page did: per-record decisions and the commands its routes produced."""

    decisions: list[Decision] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for d in self.decisions:
            found[d.status.value] = found.get(d.status.value, 0) + 1
        return found


def encode_decision(decision: Decision) -> tuple[Any, ...]:
    """A decision as a plain tuple (the event's fields, status, entity type, record ID)."""
    return (*decision.event, decision.status.value, decision.entity_type, decision.record_id)


def decode_decision(data: Any) -> Decision:
    if isinstance(data, dict):  # the encoding of workflows recorded before tuples
        data = [
            data[k]
            for k in (
                "system",
                "object",
                "source_id",
                "version",
                "key",
                "status",
                "entity_type",
                "record_id",
            )
        ]
    *event, status, entity_type, record_id = data
    return Decision(Event(*event), Status(status), entity_type, record_id)


def encode_result(result: PageResult) -> dict[str, Any]:
    """A page's result as the step returns it (plain data: DBOS records it)."""
    return {
        "decisions": [encode_decision(d) for d in result.decisions],
        "commands": result.commands,
        "counts": result.counts(),
    }
