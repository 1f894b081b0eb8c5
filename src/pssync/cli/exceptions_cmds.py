"""`pssync exceptions ...`: the inbox of problems someone owns, and replay after a fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pssync.cli.output import (
    console,
    emit_json,
    fail,
    open_exceptions,
    open_store,
    table_console,
)
from pssync.cli.store_cmds import DbOption, JsonOption
from pssync.governance.exceptions import ACTIVE, ExceptionRecord, ExceptionStore, TransitionError
from pssync.governance.replay import ReplayContext, replay
from pssync.store.problems import exception_fields

exceptions_app = typer.Typer(
    help="List, assign, resolve and replay exceptions.", no_args_is_help=True
)
ActorOption = Annotated[str, typer.Option("--actor", help="Who is acting (for the audit log).")]


def _store(db: str | None) -> ExceptionStore:
    return open_exceptions(open_store(db))


def _one(store: ExceptionStore, exc_id: str) -> ExceptionRecord:
    found = store.get(exc_id)
    if found is None:
        raise fail(f"no exception {exc_id}")
    return found


def _show(exc: ExceptionRecord, as_json: bool) -> None:
    if as_json:
        emit_json(exc.as_dict())
        return
    for key, value in exc.as_dict().items():
        if key != "payload" and value not in (None, {}, ""):
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)
    if exc.payload:
        console.print("[bold]payload[/bold]:", exc.payload, markup=False, highlight=False)


PAGE = 50  # rows a table shows unless --limit says otherwise
# The list's columns: the exception's fields that carry a list width (store.problems), then the
# record it is about (source or golden ID) and its age, then its message.
LISTED = [(name, spec["list_width"]) for name, _, spec in exception_fields() if spec["list_width"]]
assert LISTED[0][0] == "id"
DERIVED = (("record", 12), ("age", 6))


@exceptions_app.command("list")
def list_command(
    state: Annotated[
        list[str] | None, typer.Option(help="open, assigned, resolved, ignored.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner.")] = None,
    all_states: Annotated[
        bool, typer.Option("--all", help="Include resolved and ignored.")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(min=0, help=f"Rows per page (table: {PAGE}; JSON: all; 0: all)."),
    ] = None,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip.")] = 0,
    page: Annotated[
        int | None, typer.Option(min=1, help="Page number (of --limit rows), instead of --offset.")
    ] = None,
    wide: Annotated[bool, typer.Option(help="Whole messages, folded over lines.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Exceptions, oldest first (active ones unless --state/--all), a page at a time: only the
    page is read from the store and drawn."""
    states = state or (None if all_states else [s.value for s in ACTIVE])
    store = _store(db)
    size = (None if as_json else PAGE) if limit is None else (limit or None)
    if page is not None:
        offset = (page - 1) * (size or 0)
    found = store.find(states=states, category=category, owner=owner, limit=size, offset=offset)
    if as_json:
        emit_json([e.as_dict() for e in found])
        return
    total = store.count(states=states, category=category, owner=owner)
    table_console().print(_table(found, total, offset, size, wide))


def _table(
    found: list[ExceptionRecord], total: int, offset: int, size: int | None, wide: bool
) -> Table:
    """One page as a table that fits 100 columns: each message cut to its first line and the
    room left (`wide`: whole, folded)."""
    now = dt.datetime.now(dt.UTC)
    last = offset + len(found)
    title = f"{total} exception(s)"
    if found and (offset or last < total):
        title += f", {offset + 1}-{last} shown"
        if last < total and size:
            title += f" (next: --page {last // size + 1})"
    table = Table(title=title, expand=True)
    for column, width in (*LISTED, *DERIVED):
        table.add_column(column, no_wrap=True, overflow="ellipsis", width=width)
    table.add_column("message", overflow="fold" if wide else "ellipsis", no_wrap=not wide, ratio=1)
    for e in found:
        age = e.age(now)
        late = " [red]overdue[/red]" if e.overdue(now) else ""
        fields = [str(getattr(e, name) or "") for name, _ in LISTED]
        fields[0] = e.id[:12]  # a prefix `show` and the actions accept
        fields[[name for name, _ in LISTED].index("state")] += late
        table.add_row(
            *fields,
            e.source_id or e.record_id or "",
            f"{age.days}d {age.seconds // 3600}h",
            e.message if wide else (e.message.splitlines() or [""])[0][:200],
        )
    return table


@exceptions_app.command("show")
def show_command(exc_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One exception, with its details and payload."""
    _show(_one(_store(db), _resolve_id(db, exc_id)), as_json)


def _resolve_id(db: str | None, prefix: str) -> str:
    """Accept the 12-character prefix `list` prints."""
    matches = _store(db).ids_starting(prefix)
    if len(matches) != 1:
        many = "several" if matches else "no"
        raise fail(f"{prefix!r} matches {many} exceptions")
    return matches[0]


def _transition(db: str | None, exc_id: str, as_json: bool, action: str, *args: str) -> None:
    store = _store(db)
    try:
        moved = getattr(store, action)(_resolve_id(db, exc_id), *args)
    except TransitionError as exc:
        raise fail(str(exc)) from None
    _show(moved, as_json)


@exceptions_app.command("assign")
def assign_command(
    exc_id: str,
    owner: str,
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give an exception to an owner."""
    _transition(db, exc_id, as_json, "assign", owner, actor)


@exceptions_app.command("resolve")
def resolve_command(
    exc_id: str,
    note: Annotated[str, typer.Option(help="What fixed it.")] = "resolved",
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark an exception resolved."""
    _transition(db, exc_id, as_json, "resolve", note, actor)


@exceptions_app.command("ignore")
def ignore_command(
    exc_id: str,
    note: Annotated[str, typer.Option(help="Why.")] = "ignored",
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close an exception without fixing it."""
    _transition(db, exc_id, as_json, "ignore", note, actor)


@exceptions_app.command("reopen")
def reopen_command(
    exc_id: str, actor: ActorOption = "cli", db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Open a resolved or ignored exception again."""
    _transition(db, exc_id, as_json, "reopen", actor)


@exceptions_app.command("replay")
def replay_command(
    exc_ids: Annotated[
        list[str] | None, typer.Argument(help="Exception IDs (or prefixes).")
    ] = None,
    category: Annotated[
        str | None, typer.Option(help="Replay every active one of this category.")
    ] = None,
    all_active: Annotated[
        bool, typer.Option("--all", help="Replay every active exception.")
    ] = False,
    payload: Annotated[
        Path | None, typer.Option(help="A corrected payload (one exception only).")
    ] = None,
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="pssync.yaml of the engine (default ./pssync.yaml)."),
    ] = None,
) -> None:
    """Try exceptions again after a fix; each outcome is recorded on the exception. A failed
    delivery or a refused record is replayed through the engine, started for the purpose from
    pssync.yaml (connectors, mappings, routes)."""
    golden = open_store(db)
    store = open_exceptions(golden)
    if exc_ids:
        targets = [_one(store, _resolve_id(db, i)) for i in exc_ids]
    elif category or all_active:
        targets = store.find(states=[s.value for s in ACTIVE], category=category)
    else:
        raise fail("name exception IDs, --category C or --all")
    if payload is not None and len(targets) != 1:
        raise fail("--payload replays exactly one exception")
    fixed = payload.read_text(encoding="utf-8").strip() if payload else None
    ctx = ReplayContext(golden, store)
    from pssync.runtime.replay import needs_engine

    if any(needs_engine(t) for t in targets):  # deliveries, pages, flows: run the engine
        from pssync.cli.sync_cmds import engine_running

        with engine_running(config, db):
            outcomes = [replay(ctx, t, payload=fixed, actor=actor) for t in targets]
    else:
        outcomes = [replay(ctx, t, payload=fixed, actor=actor) for t in targets]
    if as_json:
        emit_json(
            [
                {"id": o.id, "state": o.state, "message": o.message, "resolution": o.resolution}
                for o in outcomes
            ]
        )
    else:
        for o in outcomes:
            verdict = (
                "[green]resolved[/green]" if o.state == "resolved" else "[red]still failing[/red]"
            )
            console.print(f"{o.id[:12]} {verdict}: {o.resolution or o.message}", highlight=False)
    if any(o.state != "resolved" for o in outcomes):
        raise typer.Exit(1)


@exceptions_app.command("merge")
def merge_command(
    survivor: Annotated[str, typer.Argument(help="Canonical ID that stays.")],
    duplicate: Annotated[str, typer.Argument(help="Canonical ID merged into it.")],
    entity: Annotated[str, typer.Option(help="Entity type.")] = "Account",
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Merge a duplicate customer master into its survivor; both sources' IDs are kept."""
    from pssync.governance.merge import merge_records

    golden = open_store(db)
    try:
        result = merge_records(
            golden, open_exceptions(golden), entity, survivor, duplicate, actor=actor
        )
    except (KeyError, ValueError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json(result.__dict__)
    else:
        console.print(
            f"merged {duplicate} into {survivor}: moved {result.moved_xrefs}, "
            f"redirected {result.redirected_xrefs}, resolved {len(result.resolved_exceptions)}"
        )
