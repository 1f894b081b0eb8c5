"""Dashboard pages that act: the exceptions inbox (assign, resolve, replay) and forecast runs.

Every form posts a CSRF token and needs the operator role; every action is audited as
``api.<verb>`` with the logged-in key's name, exactly like the same call through the API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pssync.api.context import AppContext
from pssync.api.deps import audit_call
from pssync.api.forecast_service import RunRequest
from pssync.api.names import NamesDep
from pssync.api.security import Principal, get_ctx
from pssync.forecast.run import Scenario
from pssync.governance.exceptions import State, TransitionError
from pssync.governance.replay import ReplayContext, replay
from pssync.web.auth import UserDep, check_form
from pssync.web.templating import templates

router = APIRouter(prefix="/ui", include_in_schema=False)
CtxDep = Annotated[AppContext, Depends(get_ctx)]
Csrf = Annotated[str, Form(max_length=100)]
VERBS = ("assign", "resolve", "ignore", "reopen", "replay")


@router.get("/exceptions", response_class=HTMLResponse)
def inbox(
    request: Request,
    ctx: CtxDep,
    names: NamesDep,
    user: UserDep,
    state: Annotated[
        str, Query(pattern="^(active|open|assigned|resolved|ignored|all)$")
    ] = "active",
    flash: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    states = {
        "active": [State.OPEN.value, State.ASSIGNED.value],
        "all": None,
    }.get(state, [state])
    found = ctx.exceptions.find(states=states, limit=500)
    context = {"user": user, "items": found, "state": state, "flash": flash, "names": names}
    return templates.TemplateResponse(request, "exceptions.html", context)


@router.post("/exceptions/{exc_id}/{verb}")
def act(
    request: Request,
    ctx: CtxDep,
    user: UserDep,
    exc_id: str,
    verb: str,
    csrf: Csrf,
    owner: Annotated[str, Form(max_length=128)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_form(user, csrf)
    if verb not in VERBS:
        raise HTTPException(404, f"unknown action {verb}")
    found = ctx.exceptions.get(exc_id)
    if found is None:
        raise HTTPException(404, f"no exception {exc_id}")
    who = Principal(user.name, user.role, "session")
    try:
        if verb == "assign":
            moved = ctx.exceptions.assign(exc_id, owner.strip() or user.name, who.name)
        elif verb == "resolve":
            moved = ctx.exceptions.resolve(exc_id, note.strip() or "resolved", who.name)
        elif verb == "ignore":
            moved = ctx.exceptions.ignore(exc_id, note.strip() or "ignored", who.name)
        elif verb == "reopen":
            moved = ctx.exceptions.reopen(exc_id, who.name)
        else:
            moved = replay(ReplayContext(ctx.store, ctx.exceptions), found, actor=who.name)
    except (TransitionError, ValueError) as exc:
        return _back(f"{exc_id[:8]}: {exc}")
    audit_call(
        ctx.store,
        request,
        who,
        verb,
        entity_type="Exception",
        record_id=exc_id,
        changes={"state": moved.state, "owner": moved.owner},
    )
    return _back(f"{exc_id[:8]} is now {moved.state}")


def _back(message: str) -> Response:
    return RedirectResponse(f"/ui/exceptions?flash={quote(message)}", status_code=303)


@router.post("/forecast/run")
def run_forecast(
    request: Request,
    ctx: CtxDep,
    user: UserDep,
    csrf: Csrf,
    as_of: Annotated[dt.date, Form()],
    scenario: Annotated[str, Form(max_length=64, pattern=r"^[\w .-]+$")] = "base",
    probability_multiplier: Annotated[str, Form(max_length=10)] = "1",
    shift_days: Annotated[int, Form(ge=-3650, le=3650)] = 0,
    known_now: Annotated[bool, Form()] = False,
    lookback: Annotated[int, Form(ge=0, le=36)] = 3,
) -> Response:
    check_form(user, csrf)
    try:
        multiplier = Decimal(probability_multiplier)
    except InvalidOperation:
        raise HTTPException(422, "probability multiplier must be a number") from None
    what_if = Scenario(scenario, multiplier, shift_days, {})
    info = ctx.forecast.run(
        RunRequest(as_of=as_of, scenario=what_if, lookback=lookback, known_now=known_now)
    )
    who = Principal(user.name, user.role, "session")
    audit_call(
        ctx.store,
        request,
        who,
        "forecast.run",
        entity_type="ForecastVersion",
        record_id=info.version_id,
        changes={"as_of": str(as_of), **what_if.params()},
    )
    return RedirectResponse(f"/ui/forecast?version={info.version_id}", status_code=303)
