"""The durable workflows: ingest a page (or one event), deliver a batch.

`ingest_page` runs the pipeline as one step, enqueues one `deliver_batch` per target batch
(IDs derived from its own, so a recovered or repeated page enqueues nothing twice) and only
then records the inbox decisions. Its ID is derived from the page content, so a page read
again after a crash maps onto the workflow that already handled it.

Pushed events (webhooks) are recorded by `submit.submit_event` and applied in batches through
`ingest_page` too (`pushed.py`).

`deliver_batch` runs on the target's DBOS queue (concurrency and rate limit per target). It
loops over attempts with durable sleeps: the circuit breaker's wait, then `deliver.send`;
per-record permanent failures go to the dead letter channel at once, a retriable failure is
retried after exponential backoff with jitter (never sooner than Retry-After), quota exhaustion
pauses until the reset, and what is still failing after the last attempt is dead-lettered.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from dbos import DBOS, SetWorkflowID

from pssync.engine import page_processes
from pssync.engine.circuit import Breaker
from pssync.engine.dbos_app import queue_name
from pssync.engine.dead_letter import dead_letter
from pssync.engine.deliver import send
from pssync.engine.ids import digest
from pssync.engine.inbox import Event, Inbox
from pssync.engine.outbound import Command
from pssync.engine.page_result import decode_decision, encode_result
from pssync.engine.pipeline import PagePipeline
from pssync.engine.records import event_of
from pssync.engine.runtime import current


def page_workflow_id(system: str, obj: str, records: list[dict[str, Any]]) -> str:
    """Same page content, same ID: event keys carry each record's version and content."""
    return events_workflow_id(system, obj, [event_of(system, obj, r) for r in records])


def events_workflow_id(system: str, obj: str, events: list[Event]) -> str:
    """`page_workflow_id` from the page's events, when the caller has them already."""
    return f"page:{system}:{obj}:{digest(*(e.key for e in events))}"


# Events a poller computed for a page's workflow ID, by that ID, for the page's step in this
# process: each record's content digest is then computed once, not twice. The ID digests every
# event key, so the same ID means the same events; a workflow recovered elsewhere (or after a
# restart) finds nothing here and computes them again.
_page_events: dict[str, list[Event]] = {}
_page_events_lock = threading.Lock()


def remember_events(workflow_id: str, events: list[Event]) -> None:
    with _page_events_lock:
        _page_events[workflow_id] = events


def forget_events(workflow_id: str) -> list[Event] | None:
    with _page_events_lock:
        return _page_events.pop(workflow_id, None)


@DBOS.step()
def apply_page_step(
    system: str, obj: str, records: list[dict[str, Any]], correlation_id: str
) -> dict[str, Any]:
    """Apply a page, in a page process when the worker has them (`page_processes`)."""
    events = forget_events(correlation_id)
    runtime = current()
    found = page_processes.apply(runtime, system, obj, records, correlation_id, events)
    if found is not None:
        return found
    return encode_result(PagePipeline(runtime, system, obj).run(records, correlation_id, events))


@DBOS.step()
def record_decisions_step(decisions: list[Any], workflow_id: str) -> None:
    Inbox(current().store.engine).record([decode_decision(d) for d in decisions], workflow_id)


def enqueue_deliveries(commands: list[dict[str, Any]], parent_id: str) -> int:
    """One `deliver_batch` per (target, object) chunk of the connector's batch size; the last
    command per external ID wins (a page may touch one record twice)."""
    groups: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for command in commands:
        group = (command["target"], command["object"], command["external_id_field"])
        groups[group].pop(command["external_id"], None)
        groups[group][command["external_id"]] = command
    runtime, enqueued = current(), 0
    for (target, obj, _field), by_id in sorted(groups.items()):
        size = max(1, runtime.connector(target).write_batch_size)
        batch = list(by_id.values())
        for index in range(0, len(batch), size):
            with SetWorkflowID(f"{parent_id}/deliver/{target}/{obj}/{index // size}"):
                DBOS.enqueue_workflow(
                    queue_name(target), deliver_batch, batch[index : index + size]
                )
            enqueued += 1
    return enqueued


@DBOS.workflow()
def ingest_page(system: str, obj: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply one page of source records, deliver what it routes, then remember the events."""
    workflow_id = DBOS.workflow_id or ""
    out = apply_page_step(system, obj, records, workflow_id)
    batches = enqueue_deliveries(out["commands"], workflow_id)
    record_decisions_step(out["decisions"], workflow_id)
    return {"counts": out["counts"], "commands": len(out["commands"]), "batches": batches}


@DBOS.step()
def circuit_wait_step(target: str) -> float:
    policy = current().delivery
    breaker = Breaker(current().store.engine, policy.breaker_threshold, policy.breaker_cooldown)
    return breaker.wait_seconds(target)


@DBOS.step()
def send_step(commands: list[dict[str, Any]], attempt: int) -> dict[str, Any]:
    return send(current(), [Command.from_dict(c) for c in commands], attempt).as_dict()


@DBOS.step()
def dead_letter_step(failures: list[dict[str, Any]], attempts: int, correlation_id: str) -> int:
    return len(dead_letter(current(), failures, attempts, correlation_id))


@DBOS.workflow()
def deliver_batch(commands: list[dict[str, Any]]) -> dict[str, Any]:
    """Deliver one batch to one target until every command is written or dead-lettered.

    A retriable failure aborts a vendor batch midway, so after one the batch is halved (down
    to single records) and grows back after each success: under a flaky target the engine
    still makes progress instead of retrying the same large batch until it gives up.
    `attempt` counts consecutive failures without progress.
    """
    workflow_id = DBOS.workflow_id or ""
    policy = current().delivery
    target = commands[0]["target"] if commands else ""
    totals = {"written": 0, "unchanged": 0, "skipped": 0, "dead_lettered": 0, "attempts": 0}
    pending, size, attempt, quota_waited = list(commands), max(1, len(commands)), 0, 0.0
    while pending:
        wait = circuit_wait_step(target)
        if wait > 0:
            DBOS.sleep(wait)
        chunk, rest = pending[:size], pending[size:]
        out = send_step(chunk, attempt)
        totals["attempts"] += 1
        for name in ("written", "unchanged", "skipped"):
            totals[name] += out[name]
        if out["failed"]:
            totals["dead_lettered"] += dead_letter_step(out["failed"], attempt + 1, workflow_id)
        if not out["retry"]:
            pending, attempt, size = rest, 0, min(len(commands), size * 2)
            continue
        pending = out["retry"] + rest
        if out["quota"] or out.get("busy"):  # a pause or another delivery's record: wait
            quota_waited += out["delay"]
        else:
            attempt, size = attempt + 1, max(1, size // 2)
        if attempt >= policy.max_attempts or quota_waited > policy.max_quota_wait:
            last = [{"command": c, "error": out["error"]} for c in out["retry"]]
            totals["dead_lettered"] += dead_letter_step(last, attempt, workflow_id)
            pending, attempt = rest, 0
            continue
        DBOS.sleep(out["delay"])
    return totals


@DBOS.workflow()
def ingest_event(system: str, obj: str, record: dict[str, Any]) -> dict[str, Any]:
    """One pushed change as a workflow of its own: what `submit_event` enqueued before pushed
    events were batched. Kept registered so that ones a worker left enqueued still finish."""
    workflow_id = DBOS.workflow_id or ""
    out = apply_page_step(system, obj, [record], workflow_id)
    batches = enqueue_deliveries(out["commands"], workflow_id)
    record_decisions_step(out["decisions"], workflow_id)
    return {"counts": out["counts"], "commands": len(out["commands"]), "batches": batches}
