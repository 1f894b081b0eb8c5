"""Exceptions as data: what a problem to raise carries, and the lifecycle states.

The store layer holds exception records as data so that every layer that finds a problem (the
engine rejecting a record, a delivery dead-lettered, governance flagging an account) can
describe it without depending on the governance layer, which owns the lifecycle, routing and
notification (`governance.exceptions.ExceptionStore`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    IGNORED = "ignored"


ACTIVE = (State.OPEN, State.ASSIGNED)


@dataclass
class NewException:
    """A problem to raise. `payload` is what replay needs to try again once it is fixed."""

    category: str
    message: str
    system: str | None = None
    object: str | None = None
    source_id: str | None = None
    entity_type: str | None = None
    record_id: str | None = None
    region_id: str | None = None
    service_line_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    payload: str | None = None
    correlation_id: str | None = None

    def fingerprint(self) -> str:
        parts = [
            self.category,
            self.system,
            self.object,
            self.source_id,
            self.entity_type,
            self.record_id,
            str(self.details.get("field", "")),
        ]
        return hashlib.sha256("|".join(p or "" for p in parts).encode()).hexdigest()
