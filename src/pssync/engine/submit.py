"""Handing one pushed change (a webhook) to the engine.

The ingress only records the change (`pushed.push`, one commit keyed by its event key); the
drainer of a running worker applies waiting changes in batches as page workflows. Kept apart
from the workflows so that ingress depends on the pushed-event table, not on DBOS.
"""

from __future__ import annotations

from typing import Any

from pssync.engine.pushed import push
from pssync.engine.runtime import current


def submit_event(system: str, obj: str, record: dict[str, Any]) -> str:
    """Record one pushed change for the drainer (`pushed.py`), which applies waiting events
    in batches as page workflows; the returned ID is the same for every delivery of the change.
    """
    return push(current().store.engine, system, obj, record)
