"""Replay of the exception categories that carry no record to re-send through a flow: drift and
hard deletes found by reconciliation, line items waiting for their deal, refused non-owner
writes and resource conflicts.

Each replay does what fixing the cause calls for, then records the outcome on the exception:

* `drift`: the source system's version held by the exception is applied through the engine's
  page workflow (what `reconcile --repair` does for that one record); it closes when the golden
  store then agrees with the source.
* `hard_delete`: the deletion is applied to the golden store (the history before it stays
  readable); a record the source holds again is re-read by the next sync.
* `orphan_line_item`: the held lines are applied again; they nest once their deal is in the
  golden store (its own exception replayed first), and the exception closes.
* `non_owner_write`: closes when the golden value is now the one the writer attempted (the owner
  adopted it) or when the system-of-record matrix in pssync.yaml now lets the writer own the
  field (the attempted value is then written); otherwise the owner still decides.
* `resource_conflict`: the capacity check runs again over the golden store's plan; it closes
  once the deal's roles have capacity at its requested start (or the over-allocation is gone).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pssync.config import ConfigError, load_settings
from pssync.engine import runtime as engine_runtime
from pssync.engine.nesting import ORPHAN_CATEGORY
from pssync.engine.page_runs import apply_page
from pssync.flows.opportunity_to_project import draft_project_id
from pssync.governance.conflicts import PlanInputs, demand_of, over_allocations, start_conflict
from pssync.governance.exceptions import ExceptionRecord
from pssync.governance.ownership import OwnershipPolicy
from pssync.governance.replay import ReplayContext, register, register_check
from pssync.model import parse_record
from pssync.store import Change
from pssync.store.history import utcnow

# Categories replayed through the engine (a page workflow), which the CLI starts for them.
ENGINE_CATEGORIES = ("drift", ORPHAN_CATEGORY)


def _attempt(exc: ExceptionRecord) -> str:
    return f"replay-{exc.id[:8]}-{exc.attempts + 1}"


def replay_drift(ctx: ReplayContext, exc: ExceptionRecord, text: str) -> tuple[bool, str]:
    if not engine_runtime.configured():
        return False, "the sync engine is not configured in this process; replay from a worker"
    try:
        data = json.loads(text)
        system, obj, record = str(data["system"]), str(data["object"]), dict(data["record"])
    except (ValueError, KeyError, TypeError) as err:
        return False, f"not a reconciliation payload: {err}"
    counts = apply_page(system, obj, [{**record, "tag": _attempt(exc)}])["counts"]
    if counts.get("applied") or counts.get("echo"):
        return True, f"{system} {obj} {record.get('id')}: the source's version applied"
    again = ctx.exceptions.get(exc.id)
    return False, f"not applied ({counts}); {again.message if again else ''}".strip()


def replay_orphans(ctx: ReplayContext, exc: ExceptionRecord, text: str) -> tuple[bool, str]:
    if not engine_runtime.configured():
        return False, "the sync engine is not configured in this process; replay from a worker"
    try:
        data = json.loads(text)
        system, obj = str(data["system"]), str(data["object"])
        records = [{**r, "tag": _attempt(exc)} for r in data["records"]]
    except (ValueError, KeyError, TypeError) as err:
        return False, f"not a held-lines payload: {err}"
    counts = apply_page(system, obj, records)["counts"]
    done = ctx.exceptions.get(exc.id)
    if counts.get("applied") == len(records) or (done and done.state == "resolved"):
        return True, f"{len(records)} lines nested into {exc.entity_type} {exc.source_id}"
    return False, (
        f"{exc.entity_type} {exc.source_id} is still not in the golden store; replay its own "
        f"exception first ({counts})"
    )


@register_check("hard_delete")
def replay_hard_delete(
    ctx: ReplayContext, exc: ExceptionRecord, text: str | None
) -> tuple[bool, str]:
    if not exc.entity_type or not exc.record_id:
        return False, "the exception names no golden record"
    if ctx.golden.get(exc.entity_type, exc.record_id) is None:
        return True, f"{exc.entity_type} {exc.record_id} is already gone from the golden store"
    ctx.golden.delete(exc.entity_type, exc.record_id, utcnow(), system=exc.system or "replay")
    return True, f"{exc.entity_type} {exc.record_id}: the deletion in {exc.system} applied"


def _policy(ctx: ReplayContext) -> tuple[OwnershipPolicy, dict[str, str]] | None:
    if "ownership" not in ctx.cache:
        try:
            settings = load_settings()
        except ConfigError:
            ctx.cache["ownership"] = None
        else:
            roles = {name: c.role for name, c in settings.connectors.items() if c.role}
            ctx.cache["ownership"] = (OwnershipPolicy(settings.system_of_record), roles)
    found: tuple[OwnershipPolicy, dict[str, str]] | None = ctx.cache["ownership"]
    return found


@register_check("non_owner_write")
def replay_non_owner_write(
    ctx: ReplayContext, exc: ExceptionRecord, text: str | None
) -> tuple[bool, str]:
    field, attempted = str(exc.details.get("field")), exc.details.get("attempted")
    golden = ctx.golden.get(str(exc.entity_type), str(exc.record_id))
    if golden is None:
        return False, f"{exc.entity_type} {exc.record_id} is not in the golden store"
    if golden.payload.get(field) == attempted:
        return True, f"{field} holds {attempted!r} now (its owner adopted it)"
    found = _policy(ctx)
    if found is not None:
        policy, roles = found
        writer = roles.get(str(exc.system), exc.system)
        incoming = {**golden.payload, field: attempted}
        outcome = policy.apply(str(exc.entity_type), writer, incoming, golden.payload)
        if not any(r.field == field for r in outcome.refused):
            record = parse_record(str(exc.entity_type), incoming)
            ctx.golden.write([Change(record, utcnow(), str(exc.system))], actor="replay")
            return True, f"{exc.system} owns {field} now; {attempted!r} written"
    owner = exc.details.get("owner")
    return False, (
        f"{field} is still owned by {owner}: change it there, or give {exc.system} the field in "
        "pssync.yaml's system_of_record"
    )


@register_check("resource_conflict")
def replay_resource_conflict(
    ctx: ReplayContext, exc: ExceptionRecord, text: str | None
) -> tuple[bool, str]:
    kind = exc.details.get("kind")
    if kind == "start_before_capacity":
        opp = ctx.golden.get("Opportunity", str(exc.record_id))
        demand = demand_of(opp.payload) if opp else None
        if demand is None:
            return True, "the deal no longer asks for capacity"
        inputs = PlanInputs.load(ctx.golden, exclude_projects=[draft_project_id(demand.deal_id)])
        conflict = start_conflict(inputs, demand)
        return (
            (True, "its roles have capacity now") if conflict is None else (False, conflict.message)
        )
    month = _month(exc.details.get("field"))
    if month is None:
        return False, f"no conflict kind in {exc.details}"
    still = [
        c
        for c in over_allocations(PlanInputs.load(ctx.golden), month, 1)
        if c.record_id == exc.record_id and c.role_id == exc.details.get("role_id")
    ]
    return (False, still[0].message) if still else (True, "no longer over-allocated")


def _month(field: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(f"{str(field).rsplit(':', 1)[1]}-01")
    except (IndexError, ValueError):
        return None


def needs_engine(exc: ExceptionRecord) -> bool:
    return exc.category in ENGINE_CATEGORIES


register("drift")(replay_drift)
register(ORPHAN_CATEGORY)(replay_orphans)
