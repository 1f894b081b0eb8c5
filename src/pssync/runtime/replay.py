"""Replay handlers of the engine and the flows, registered with governance's replay registry.

The engine's dead-letter channel knows how to re-send a failed delivery (`replay_delivery`)
but may not import governance, where the registry lives: the composition root registers it,
with the flows' handler for records refused at ingest, draft or handoff. Loaded by
`governance.replay` on first need too, so `pssync exceptions replay` finds them; the replays
that need the engine running (`needs_engine`) get it from the CLI (`cli.sync_cmds`).
"""

from __future__ import annotations

from pssync.engine import pushed
from pssync.engine.dead_letter import CATEGORIES, replay_delivery
from pssync.flows import runner
from pssync.governance.exceptions import ExceptionRecord
from pssync.governance.replay import HANDLERS, ReplayContext, register
from pssync.runtime import replay_checks

# Raised by the handoff flow for a deal it may not hand off; replayed by running the handoff again.
HANDOFF_CATEGORIES = ("won_without_erp_project",)
# Data-quality checks that hold their record at ingest when pssync.yaml's `checks:` says so
# (the rest are among the flows' replayable categories already).
HELD_CHECKS = ("stale_stage",)
# Stages whose exceptions are replayed through the engine's page or flow workflows.
ENGINE_STAGES = ("ingest", "draft", "handoff")


def replay_pushed_event(ctx: ReplayContext, exc: ExceptionRecord, text: str) -> tuple[bool, str]:
    """A webhook event set aside as poison, queued again once fixed (`engine.pushed`)."""
    return pushed.requeue(ctx.golden.engine, exc.system, exc.object, text)


def register_replays() -> None:
    """Register the engine's and the flows' replay handlers (idempotent)."""
    if HANDLERS.get((pushed.CATEGORY, None)) is not replay_pushed_event:
        register(pushed.CATEGORY)(replay_pushed_event)
    for category in CATEGORIES:
        if HANDLERS.get((category, None)) is not replay_delivery:
            register(category)(replay_delivery)
    for category in (*runner.REPLAYABLE, *HANDOFF_CATEGORIES, *HELD_CHECKS):
        if HANDLERS.get((category, None)) is not runner.replay_flow_exception:
            register(category)(runner.replay_flow_exception)


def needs_engine(exc: ExceptionRecord) -> bool:
    """Whether replaying `exc` runs the sync engine (a delivery, a page, a flow workflow)."""
    return (
        exc.category in CATEGORIES
        or replay_checks.needs_engine(exc)
        or (
            exc.category in (*runner.REPLAYABLE, *HANDOFF_CATEGORIES, *HELD_CHECKS)
            and exc.details.get("stage") in ENGINE_STAGES
        )
    )


register_replays()
