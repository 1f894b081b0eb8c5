"""Starting a page workflow, and waiting for it.

A page's workflow ID is derived from its content (`workflows.events_workflow_id`), so a page
read again after a crash maps onto the workflow that already handled it. Polling and the
pushed-event drainer both start pages here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbos import DBOS, SetWorkflowID, WorkflowHandle

from pssync.engine.records import event_of
from pssync.engine.workflows import (
    events_workflow_id,
    forget_events,
    ingest_page,
    remember_events,
)


def apply_page(system: str, obj: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Run (or rejoin) the page's workflow and wait for it.

    A page already handled (same content, same workflow ID) is reported as duplicates: DBOS
    would hand back the first run's result, which would read as if it had been applied again.
    """
    return start_page(system, obj, records).result()


@dataclass
class PageRun:
    """A page workflow started and not yet waited for (`result` waits)."""

    workflow_id: str
    source_ids: frozenset[str]
    handle: WorkflowHandle[dict[str, Any]] | None  # None: handled before, nothing to run
    records: int

    def result(self) -> dict[str, Any]:
        if self.handle is None:
            return {"counts": {"duplicate": self.records}, "commands": 0, "batches": 0}
        try:
            return self.handle.get_result()
        finally:
            forget_events(self.workflow_id)


def start_page(system: str, obj: str, records: list[dict[str, Any]]) -> PageRun:
    """`apply_page` without the wait: the workflow runs on DBOS's executor meanwhile."""
    events = [event_of(system, obj, r) for r in records]
    workflow_id = events_workflow_id(system, obj, events)
    source_ids = frozenset(e.source_id for e in events)
    status = DBOS.get_workflow_status(workflow_id)
    if status is not None and status.status == "SUCCESS":
        return PageRun(workflow_id, source_ids, None, len(records))
    remember_events(workflow_id, events)
    try:
        with SetWorkflowID(workflow_id):
            handle = DBOS.start_workflow(ingest_page, system, obj, records)
    except BaseException:
        forget_events(workflow_id)
        raise
    return PageRun(workflow_id, source_ids, handle, len(records))
