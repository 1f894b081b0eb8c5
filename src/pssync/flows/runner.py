"""Wiring the flows into a worker: configuration, dispatch of the workflow flows, replay.

* `configure(runtime, flows)` reads the triggers and sets the runtime's routes to the
  event-driven flows (resource feedback, financial actuals). Governance's stages are the
  runtime builder's (`pssync.runtime`), on with or without flows.
* `dispatch(runtime)` starts the multi-step flows for deals whose state calls for them: a draft
  project for a deal at a trigger stage, a cancellation for a lost deal's draft, an ERP handoff
  for a won deal without an ERP project. DBOS cannot start workflows from inside the ingest step,
  so each worker cycle calls `dispatch_step` after polling. It first re-points records holding a
  vendor reference that has become resolvable (a deal whose account was fixed and replayed).
  Workflow IDs are derived from the inputs that matter (the deal, its account), so an unchanged
  deal starts nothing new and a changed one is drafted or handed off again.
* Replay: an exception raised at ingest (an unmapped value, say) is replayed by re-ingesting its
  source record once the crosswalk or the record is fixed; a blocked draft or handoff by running
  its workflow again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from dbos import DBOS, SetWorkflowID

from pssync.config.settings import FlowConfig
from pssync.engine import runtime as engine_runtime
from pssync.engine.ids import content_digest
from pssync.engine.page_runs import apply_page
from pssync.engine.runtime import Runtime
from pssync.flows import financial_actuals as _actuals  # noqa: F401 - registers its route
from pssync.flows import resource_feedback as _feedback  # noqa: F401 - registers its route
from pssync.flows.closed_won_handoff import closed_won_handoff
from pssync.flows.opportunity_to_project import cancel_draft, draft_project, draft_project_id
from pssync.flows.triggers import Triggers, current, from_config, set_triggers
from pssync.governance.exceptions import ExceptionRecord
from pssync.governance.replay import ReplayContext, register
from pssync.governance.repoint import repoint

REPLAYABLE = (
    "unmapped_value",
    "invalid_record",
    "invalid_tax_code",
    "missing_legal_entity",
    "missing_attribute",
    "duplicate_customer",
)
_DRAFT_FIELDS = (
    "name",
    "account_id",
    "amount",
    "service_line_id",
    "region_id",
    "legal_entity_id",
    "requested_start",
    "close_date",
    "duration_months",
    "line_items",
)


def configure(
    runtime: Runtime, flows: Mapping[str, FlowConfig | Mapping[str, Any]] | None = None
) -> Triggers:
    """Turn the flows on for `runtime` (triggers, routes)."""
    triggers = set_triggers(from_config(flows))
    runtime.routes = triggers.routes()
    return triggers


def _start(workflow_id: str, flow: Callable[[str], dict[str, Any]], opportunity_id: str) -> str:
    with SetWorkflowID(workflow_id):
        DBOS.start_workflow(flow, opportunity_id)
    return workflow_id


def dispatch(runtime: Runtime, triggers: Triggers | None = None) -> list[str]:
    """Start the draft, cancel and handoff workflows the golden store calls for; their IDs.

    Records holding a reference that has become resolvable are re-pointed first, so a deal
    whose account was just fixed and replayed is drafted or handed off with it."""
    triggers = triggers or current()
    repoint(runtime)
    projects = [v.payload for v in runtime.store.iter_records("Project")]
    coded = {p.get("opportunity_id") for p in projects if p.get("project_code")}
    drafts = {p["id"] for p in projects if p.get("status") == "draft"}
    # Projects the PSA has for a deal that this flow did not draft belong to the PSA alone.
    foreign = {
        p.get("opportunity_id")
        for p in projects
        if p.get("opportunity_id") and p["id"] != draft_project_id(p["opportunity_id"])
    }
    started = []
    for version in runtime.store.iter_records("Opportunity"):
        opp = version.payload
        opp_id = opp["id"]
        if triggers.wants_handoff(opp):
            if opp_id in coded:
                continue
            account = runtime.store.get("Account", opp["account_id"])
            key = content_digest({"opp": opp, "account": account and account.payload})[:16]
            started.append(_start(f"handoff:{opp_id}:{key}", closed_won_handoff, opp_id))
        elif triggers.wants_draft(opp) and opp_id not in foreign:
            key = content_digest({k: opp.get(k) for k in _DRAFT_FIELDS})[:16]
            started.append(_start(f"draft:{opp_id}:{key}", draft_project, opp_id))
        elif triggers.lost(opp) and draft_project_id(opp_id) in drafts:
            started.append(_start(f"cancel:{opp_id}", cancel_draft, opp_id))
    return started


def dispatch_step(runtime: Runtime) -> int:
    """`dispatch` as a worker cycle's step after polling: how many workflows it started."""
    return len(dispatch(runtime))


def wait(workflow_ids: list[str]) -> dict[str, Any]:
    """The results of dispatched workflows (blocks until each has finished)."""
    return {wid: DBOS.retrieve_workflow(wid).get_result() for wid in workflow_ids}


def replay_flow_exception(ctx: ReplayContext, exc: ExceptionRecord, text: str) -> tuple[bool, str]:
    """Replay handler for exceptions raised at ingest, draft or handoff."""
    if not engine_runtime.configured():
        return False, "the sync engine is not configured in this process; replay from a worker"
    stage = exc.details.get("stage")
    attempt = f"replay-{exc.id[:8]}-{exc.attempts + 1}"
    if stage == "ingest":
        try:
            data = json.loads(text)
            record = {**data["record"], "tag": attempt}
            system, obj = str(data["system"]), str(data["object"])
        except (ValueError, KeyError, TypeError) as err:
            return False, f"not an ingest payload: {err}"
        counts = apply_page(system, obj, [record])["counts"]
        if counts.get("applied"):
            repoint(engine_runtime.current())  # records that were waiting for this one
            return True, f"{system} {obj} {record['id']} applied"
        again = ctx.exceptions.get(exc.id)
        return False, again.message if again else f"still {counts}"
    if stage in ("draft", "handoff"):
        flow = closed_won_handoff if stage == "handoff" else draft_project
        with SetWorkflowID(f"{stage}:{text}:{attempt}"):
            handle = DBOS.start_workflow(flow, text)
        outcome = handle.get_result()
        ok = outcome.get("status") in ("drafted", "handed_off")
        return ok, f"{stage} of {text}: {outcome.get('status')} {outcome.get('reason', '')}".strip()
    return False, "this exception clears itself once the record is fixed at its source"


for _category in REPLAYABLE:
    register(_category)(replay_flow_exception)
