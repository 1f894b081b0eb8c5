"""`pssync sync | worker | reconcile | plan | trace`: run and inspect the sync engine.

Exported for `cli/main.py` to wire:

    app.command("sync")(sync_cmds.sync_command)
    app.command("worker")(sync_cmds.worker_command)
    app.command("reconcile")(sync_cmds.reconcile_command)
    app.command("plan")(sync_cmds.plan_command)
    app.command("trace")(sync_cmds.trace_command)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import or_, select

from pssync.cli.output import console, emit_json, fail, settings
from pssync.engine.runtime import Runtime

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="pssync.yaml to use (default ./pssync.yaml).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
SystemOption = Annotated[
    list[str] | None, typer.Option("--system", help="Only these systems (repeatable).")
]


def _runtime(
    config: Path | None, db: str | None = None, page_processes: int | None = None
) -> Runtime:
    from pssync.config import ConfigError, load_settings
    from pssync.engine.worker import start
    from pssync.runtime import build_runtime

    try:
        loaded = load_settings(config) if config else settings()
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if db:
        loaded = loaded.model_copy(update={"database_url": db})
    runtime = build_runtime(loaded, base=(config or Path("pssync.yaml")).parent)
    processes = loaded.page_processes if page_processes is None else page_processes
    start(runtime, loaded.database_url, page_processes=processes)
    return runtime


@contextmanager
def engine_running(config: Path | None, db: str | None = None) -> Iterator[Runtime]:
    """The engine started in this process for the duration (a replay that re-sends a
    delivery or re-applies a page needs it), shut down afterwards."""
    from pssync.engine.dbos_app import shutdown
    from pssync.engine.runtime import set_runtime

    runtime = _runtime(config, db)
    try:
        yield runtime
    finally:
        shutdown()
        set_runtime(None)


def _targets(runtime: Runtime, systems: list[str] | None) -> list[tuple[str, str]]:
    from pssync.engine.setup import capturable

    pairs = [(s, o) for s, o in capturable(runtime) if not systems or s in systems]
    if not pairs:
        raise fail("nothing to sync: no connector with a mapping file is configured")
    return pairs


def sync_command(
    full: Annotated[
        bool, typer.Option("--full", help="Re-read everything, not just changes.")
    ] = False,
    system: SystemOption = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for deliveries to finish.")] = 300.0,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Capture changes from every configured system once and deliver what they route."""
    from pssync.connectors.errors import ConnectorError
    from pssync.engine.cycle import CycleOptions, run_cycle
    from pssync.engine.dbos_app import shutdown
    from pssync.engine.worker import wait_idle

    runtime = _runtime(config)
    try:
        _targets(runtime, system)
        try:
            cycle = run_cycle(runtime, CycleOptions(systems=system, full=full))
        except ConnectorError as exc:
            raise fail(f"sync stopped: {type(exc).__name__}: {exc}") from None
        idle = wait_idle(wait)
    finally:
        shutdown()
    rows = [
        {"system": r.system, "object": r.object, "pages": r.pages, **r.counts}
        | ({"exceptions_closed": r.exceptions_closed} if r.exceptions_closed else {})
        for r in cycle.captures
    ]
    if as_json:
        emit_json({"captures": rows, "after_poll": cycle.after, "deliveries_done": idle})
    else:
        for row in rows:
            console.print(row)
        for name, count in cycle.after.items():
            console.print(f"{name}: {count}")
        console.print("deliveries done" if idle else "[yellow]deliveries still running[/yellow]")
    if not idle:
        raise typer.Exit(2)


def worker_command(
    interval: Annotated[float, typer.Option(help="Seconds between polling rounds.")] = 30.0,
    system: SystemOption = None,
    config: ConfigOption = None,
    max_cycles: Annotated[
        int | None,
        typer.Option(
            "--max-cycles",
            min=1,
            help="Stop after this many cycles, once deliveries and pushed events are done "
            "(default: run until stopped).",
        ),
    ] = None,
    wait: Annotated[
        float, typer.Option(help="With --max-cycles: seconds to wait for deliveries at the end.")
    ] = 300.0,
) -> None:
    """Run until stopped: poll every system each interval; deliver from the queues; recover
    the workflows a previous run of this worker left behind."""
    from pssync.engine.cycle import CycleOptions, run_cycle
    from pssync.engine.dbos_app import shutdown
    from pssync.engine.worker import wait_idle

    runtime = _runtime(config)
    _targets(runtime, system)
    console.print("worker started; Ctrl-C to stop")
    cycles = 0
    try:
        while True:
            cycle = run_cycle(runtime, CycleOptions(systems=system, keep_going=True))
            for s, o, error in cycle.failures:
                console.print(f"[yellow]{s} {o}: {error}[/yellow]")
            for report in cycle.captures:
                if report.counts:
                    console.print(f"{report.system} {report.object}: {report.counts}")
            for name, count in cycle.after.items():
                if count:
                    console.print(f"{name}: {count}")
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                # A bounded run ends once what it started (and pushed events) is applied.
                if not wait_idle(wait):
                    console.print("[yellow]deliveries still running[/yellow]")
                    raise typer.Exit(2)
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        shutdown()


def reconcile_command(
    repair: Annotated[
        bool, typer.Option("--repair", help="Apply missed changes and deletes.")
    ] = False,
    system: SystemOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compare each system with the golden store; repair or raise what differs."""
    from pssync.engine.dbos_app import shutdown
    from pssync.engine.reconcile import reconcile

    # Reconciliation compares and repairs in this process: page processes would only be
    # started (two more interpreters importing pssync) to sit idle.
    runtime = _runtime(config, page_processes=0)
    try:
        reports = [reconcile(runtime, s, o, repair=repair) for s, o in _targets(runtime, system)]
    finally:
        shutdown()
    if as_json:
        emit_json([r.as_dict() for r in reports])
        return
    for r in reports:
        console.print(
            f"{r.system} {r.object}: {r.checked} checked, {r.in_step} in step, "
            f"{len(r.missing)} missing, {len(r.drift)} drifted, {len(r.deleted)} deleted, "
            f"{r.repaired} repaired, {r.raised} raised"
        )


def plan_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Dry run: every write a sync would make per system, with before/after values."""
    from pssync.engine.dbos_app import shutdown
    from pssync.engine.plan import plan

    runtime = _runtime(config)
    try:
        writes = plan(runtime)
    finally:
        shutdown()
    if as_json:
        emit_json([w.__dict__ for w in writes])
        return
    if not writes:
        console.print("nothing to write")
    for w in writes:
        console.print(
            f"[bold]{w.action}[/bold] {w.target} {w.object} {w.external_id} ({w.record_id})"
        )
        for name, (before, after) in w.fields.items():
            console.print(f"    {name}: {before!r} -> {after!r}")


def trace_command(
    ident: Annotated[str, typer.Argument(help="Record, source, event, workflow or exception ID.")],
    db: Annotated[str | None, typer.Option(help="Database URL.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Everything pssync knows about one ID: events, versions, xrefs, audit, exceptions."""
    from pssync.cli.output import open_store
    from pssync.engine.inbox import Inbox
    from pssync.store.tables import audit_log, exception_record, xref

    store = open_store(db)
    found: dict[str, Any] = {"events": Inbox(store.engine).events_for(ident)}
    with store.engine.connect() as conn:
        links = conn.execute(
            select(xref).where(or_(xref.c.record_id == ident, xref.c.external_id == ident))
        ).all()
        found["xrefs"] = [dict(r._mapping) for r in links]
        ids = {ident} | {r.record_id for r in links}
        found["audit"] = [
            dict(r._mapping)
            for r in conn.execute(
                select(audit_log)
                .where(or_(audit_log.c.record_id.in_(ids), audit_log.c.correlation_id == ident))
                .order_by(audit_log.c.seq)
            )
        ]
        xr = exception_record.c
        found["exceptions"] = [
            dict(r._mapping)
            for r in conn.execute(
                select(exception_record).where(
                    or_(
                        xr.record_id.in_(ids),
                        xr.source_id == ident,
                        xr.id == ident,
                        xr.correlation_id == ident,
                    )
                )
            )
        ]
    found["versions"] = [
        {
            "entity_type": v.entity_type,
            "valid_from": v.valid_from,
            "recorded_from": v.recorded_from,
            "system": v.system,
            "source_record": v.source_record,
            "payload": v.payload,
        }
        for entity_type, record_id in sorted(
            {(x["entity_type"], x["record_id"]) for x in found["xrefs"]}
        )
        for v in store.history(entity_type, record_id)
    ]
    if store.get("Opportunity", ident) is not None:
        from pssync.flows.lineage import lineage

        found["lineage"] = lineage(store, ident)
    if not any(found.values()):
        raise fail(f"nothing known about {ident}")
    if as_json:
        emit_json(found)
        return
    for section, rows in found.items():
        console.print(f"[bold]{section}[/bold] ({len(rows)})")
        for row in rows:
            console.print(f"  {row}")
