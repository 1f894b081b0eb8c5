"""Dry run: every write the routes would make now, per target, with before/after values.

The golden store's current records are routed as if their last writer had just changed them,
rendered for each target exactly as delivery would, and compared with the target's current
record (read, never written). Nothing is enqueued and no target is written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pssync.engine.deliver import render
from pssync.engine.echo import same_fields
from pssync.engine.outbound import ROUTES, AppliedChange, Command, route_change
from pssync.engine.runtime import Runtime


@dataclass
class PlannedWrite:
    target: str
    object: str
    external_id: str
    record_id: str
    action: str  # create | update
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (before, after)


def _commands(runtime: Runtime) -> list[Command]:
    entity_types = {getattr(ROUTES.get(n), "entity_type", None) for n in runtime.routes}
    commands: list[Command] = []
    for entity_type in sorted(t for t in entity_types if t):
        for version in runtime.store.iter_records(entity_type):
            change = AppliedChange(
                version.system, "", "", entity_type, version.record_id, version.payload, ""
            )
            commands += route_change(runtime, change)
    return commands


def _current(runtime: Runtime, target: str, obj: str, key: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in runtime.connector(target).snapshot(obj):
        for record in page.records:
            value = record.data.get(key)
            if value not in (None, ""):
                found[str(value)] = record.data
    return found


def plan(runtime: Runtime) -> list[PlannedWrite]:
    """The writes a sync would make now (no-ops left out)."""
    groups: dict[tuple[str, str, str], list[Command]] = defaultdict(list)
    for command in _commands(runtime):
        groups[(command.target, command.object, command.external_id_field)].append(command)
    planned: list[PlannedWrite] = []
    for (target, obj, key), commands in sorted(groups.items()):
        existing = _current(runtime, target, obj, key)
        for command in commands:
            after = render(runtime, command)
            before = existing.get(command.external_id)
            if before is not None and same_fields(after, before):
                continue
            diff = {
                name: (None if before is None else before.get(name), value)
                for name, value in after.items()
                if before is None or not same_fields({name: value}, before)
            }
            action = "create" if before is None else "update"
            planned.append(
                PlannedWrite(target, obj, command.external_id, command.record_id, action, diff)
            )
    return planned
