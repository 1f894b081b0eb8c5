"""The exceptions inbox over HTTP: filter, act one by one or in bulk, replay after a fix.

Transitions go through `ExceptionStore` (which audits them as ``exception.*`` with the caller
as actor); the API adds its own ``api.<verb>`` entry with the correlation ID, so an auditor
can tie the change to the HTTP request that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError

from pssync.api.deps import CtxDep, OperatorDep, ViewerDep, audit_call
from pssync.api.names import Names, NamesDep
from pssync.api.schemas.exceptions import (
    AssignBody,
    BulkAssign,
    BulkItem,
    BulkReplay,
    BulkResolve,
    BulkResult,
    ExceptionPublic,
    NoteBody,
    ReplayBody,
)
from pssync.api.security import Principal
from pssync.governance.exceptions import ExceptionRecord, State, TransitionError
from pssync.governance.replay import ReplayContext, replay

router = APIRouter(prefix="/exceptions", tags=["exceptions"])
IdPath = Annotated[str, Path(min_length=1, max_length=64)]
Action = Callable[[ExceptionRecord], ExceptionRecord]


def public(exc: ExceptionRecord, names: Names | None = None) -> ExceptionPublic:
    """The exception as served; with `names`, the names of its record, region, service line."""
    found = ExceptionPublic.model_validate(exc.__dict__)
    if names is not None:
        found.record_name = names.of_record(exc.entity_type, exc.record_id)
        found.region_name = names.name("region", exc.region_id)
        found.service_line_name = names.name("service_line", exc.service_line_id)
    return found


def _apply(ctx: CtxDep, exc_id: str, action: Action) -> ExceptionRecord:
    """Run `action` on one exception; 404 if unknown, 409 if the transition is not allowed."""
    found = ctx.exceptions.get(exc_id)
    if found is None:
        raise HTTPException(404, f"no exception {exc_id}")
    try:
        return action(found)
    except (TransitionError, ValueError) as exc:
        raise HTTPException(409, str(exc)) from None


def _replayer(ctx: CtxDep, who: Principal, payload: str | None) -> Action:
    context = ReplayContext(ctx.store, ctx.exceptions)
    return lambda exc: replay(context, exc, payload=payload, actor=who.name)


def _single_valued(request: Request) -> None:
    """A filter given twice is refused (422), not silently narrowed to its last value."""
    for name in ("category", "owner", "system", "limit"):
        if len(request.query_params.getlist(name)) > 1:
            problem = {"loc": ["query", name], "msg": "may be given once", "type": "value_error"}
            raise RequestValidationError([problem])


@router.get("", summary="Exceptions, oldest first", dependencies=[Depends(_single_valued)])
def list_exceptions(
    ctx: CtxDep,
    names: NamesDep,
    _: ViewerDep,
    state: Annotated[list[State] | None, Query(description="Default: open and assigned.")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    system: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ExceptionPublic]:
    states = [s.value for s in (state or [State.OPEN, State.ASSIGNED])]
    found = ctx.exceptions.find(
        states=states, category=category, owner=owner, system=system, limit=limit
    )
    return [public(e, names) for e in found]


@router.get("/{exc_id}", summary="One exception")
def get_exception(exc_id: IdPath, ctx: CtxDep, names: NamesDep, _: ViewerDep) -> ExceptionPublic:
    found = ctx.exceptions.get(exc_id)
    if found is None:
        raise HTTPException(404, f"no exception {exc_id}")
    return public(found, names)


def _bulk(
    request: Request, ctx: CtxDep, who: Principal, ids: list[str], verb: str, action: Action
) -> BulkResult:
    items = []
    for exc_id in dict.fromkeys(ids):
        try:
            moved = _apply(ctx, exc_id, action)
        except HTTPException as exc:
            items.append(BulkItem(id=exc_id, ok=False, error=str(exc.detail)))
            continue
        items.append(BulkItem(id=exc_id, ok=True, state=moved.state))
    done = [i.id for i in items if i.ok]
    audit_call(
        ctx.store,
        request,
        who,
        f"bulk_{verb}",
        entity_type="Exception",
        changes={"ids": done, "failed": [i.id for i in items if not i.ok]},
    )
    return BulkResult(ok=len(done), failed=len(items) - len(done), items=items)


@router.post("/bulk/assign", summary="Assign many exceptions to one owner")
def bulk_assign(body: BulkAssign, request: Request, ctx: CtxDep, who: OperatorDep) -> BulkResult:
    return _bulk(
        request,
        ctx,
        who,
        body.ids,
        "assign",
        lambda e: ctx.exceptions.assign(e.id, body.owner, who.name),
    )


@router.post("/bulk/resolve", summary="Resolve many exceptions with one note")
def bulk_resolve(body: BulkResolve, request: Request, ctx: CtxDep, who: OperatorDep) -> BulkResult:
    return _bulk(
        request,
        ctx,
        who,
        body.ids,
        "resolve",
        lambda e: ctx.exceptions.resolve(e.id, body.note, who.name),
    )


@router.post("/bulk/replay", summary="Replay many exceptions")
def bulk_replay(body: BulkReplay, request: Request, ctx: CtxDep, who: OperatorDep) -> BulkResult:
    return _bulk(request, ctx, who, body.ids, "replay", _replayer(ctx, who, None))


def _act(
    request: Request,
    ctx: CtxDep,
    who: Principal,
    exc_id: str,
    verb: str,
    action: Action,
    **info: object,
) -> ExceptionPublic:
    moved = _apply(ctx, exc_id, action)
    audit_call(
        ctx.store,
        request,
        who,
        verb,
        entity_type="Exception",
        record_id=exc_id,
        changes={"state": moved.state, **info},
    )
    return public(moved)


@router.post("/{exc_id}/assign", summary="Give an exception an owner")
def assign(
    exc_id: IdPath, body: AssignBody, request: Request, ctx: CtxDep, who: OperatorDep
) -> ExceptionPublic:
    return _act(
        request,
        ctx,
        who,
        exc_id,
        "assign",
        lambda e: ctx.exceptions.assign(e.id, body.owner, who.name),
        owner=body.owner,
    )


@router.post("/{exc_id}/resolve", summary="Mark an exception fixed")
def resolve(
    exc_id: IdPath, body: NoteBody, request: Request, ctx: CtxDep, who: OperatorDep
) -> ExceptionPublic:
    return _act(
        request,
        ctx,
        who,
        exc_id,
        "resolve",
        lambda e: ctx.exceptions.resolve(e.id, body.note, who.name),
        note=body.note,
    )


@router.post("/{exc_id}/ignore", summary="Close an exception without a fix")
def ignore(
    exc_id: IdPath, body: NoteBody, request: Request, ctx: CtxDep, who: OperatorDep
) -> ExceptionPublic:
    return _act(
        request,
        ctx,
        who,
        exc_id,
        "ignore",
        lambda e: ctx.exceptions.ignore(e.id, body.note, who.name),
        note=body.note,
    )


@router.post("/{exc_id}/reopen", summary="Open a resolved or ignored exception again")
def reopen(exc_id: IdPath, request: Request, ctx: CtxDep, who: OperatorDep) -> ExceptionPublic:
    return _act(
        request, ctx, who, exc_id, "reopen", lambda e: ctx.exceptions.reopen(e.id, who.name)
    )


@router.post("/{exc_id}/replay", summary="Try the exception's payload (or a corrected one) again")
def replay_one(
    exc_id: IdPath, body: ReplayBody, request: Request, ctx: CtxDep, who: OperatorDep
) -> ExceptionPublic:
    action = _replayer(ctx, who, body.payload)
    return _act(request, ctx, who, exc_id, "replay", action, corrected=body.payload is not None)
