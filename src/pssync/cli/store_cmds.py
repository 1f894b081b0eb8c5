"""Commands over the golden store: import, export, status and audit verification."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pssync.cli.output import console, emit_json, fail, open_exceptions, open_store, progress
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.replay import raise_import_rejects
from pssync.store import GoldenStore, audit_anchors
from pssync.store.audit import AuditKeyError, VerifyResult, verify_chain
from pssync.store.jsonl import (
    MAX_LINE_BYTES,
    ImportReport,
    export_lines,
    import_file,
    write_export,
)
from pssync.store.summary import store_summary

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: from pssync.yaml, else ./pssync.db)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

audit_app = typer.Typer(help="Check the append-only audit log.", no_args_is_help=True)


def _count_lines(path: Path) -> int:
    """About how many lines (for the progress bar), read in chunks: a line may be huge."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def print_import_report(report: ImportReport, path: Path) -> None:
    console.print(
        f"{path}: {report.lines} lines, [green]{report.created} created[/green], "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"[{'red' if report.rejected else 'green'}]{len(report.rejected)} rejected[/]"
    )
    for r in report.rejected[:20]:
        console.print(f"  line {r.line_number}: {r.reason}", highlight=False, markup=False)
    if len(report.rejected) > 20:
        console.print(f"  ... and {len(report.rejected) - 20} more")
    for number, first in report.repeated[:20]:
        console.print(f"  line {number}: repeats line {first} exactly (skipped)", highlight=False)
    if len(report.repeated) > 20:
        console.print(f"  ... and {len(report.repeated) - 20} more repeated lines")


def import_command(
    file: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, help="Canonical JSONL file."),
    ] = None,
    db: DbOption = None,
    system: Annotated[
        str, typer.Option(help="System to credit when a line names none.")
    ] = "import",
    as_json: JsonOption = False,
    max_line_bytes: Annotated[
        int, typer.Option(min=1024, help="Longest line accepted, in bytes (longer: rejected).")
    ] = MAX_LINE_BYTES,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", exists=True, dir_okay=False, help="A CSV file of one entity."),
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option(help="With --csv: accounts, opportunities, line_items, projects, actuals..."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="With --csv: a saved column mapping."),
    ] = None,
    save_mapping: Annotated[
        Path | None, typer.Option(help="With --csv: save the mapping used, to edit and reuse.")
    ] = None,
    check: Annotated[
        bool, typer.Option(help="Run the `pssync check` checks over the store afterwards.")
    ] = True,
) -> None:
    """Load canonical records (one JSON object a line: entity_type, valid_from, payload), or
    with --csv a file of one entity through a column mapping (guessed from the headers, or
    --mapping). Bad lines or rows are reported by number and raised as exceptions; the others
    are imported."""
    if csv_file is not None:
        if entity is None:
            raise fail("--csv needs --entity (accounts, opportunities, line_items, ...)")
        from pssync.cli.onboard_cmds import import_csv

        import_csv(csv_file, entity, mapping, save_mapping, db, as_json, check)
        return
    if file is None:
        raise fail("name a JSONL file, or --csv FILE --entity E")
    store = open_store(db)
    try:
        with progress(not as_json) as bar:
            task = bar.add_task(f"importing {file.name}", total=_count_lines(file))
            report = import_file(
                store,
                file,
                system=system,
                on_progress=lambda n: bar.advance(task, n),
                max_line_bytes=max_line_bytes,
            )
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
    exceptions = open_exceptions(store)
    raised = raise_import_rejects(exceptions, file.name, report.rejected)
    checks = _checks(store, exceptions) if check else {}
    if as_json:
        emit_json({**report.as_dict(), "exceptions": [e.id for e in raised], "checks": checks})
    else:
        print_import_report(report, file)
        if checks:
            found = ", ".join(f"{n} {c}" for c, n in sorted(checks["found"].items()))
            console.print(f"  checks over the store: {found or 'nothing found'}", highlight=False)
        if report.rejected:
            console.print(
                f"  rejected lines written to {file.with_suffix('.rejected.jsonl')} and raised as"
                f" {len(raised)} exception(s): `pssync exceptions list --category invalid_record`"
            )
    if report.rejected and report.created + report.updated + report.unchanged == 0:
        raise typer.Exit(1)


def _checks(store: GoldenStore, exceptions: ExceptionStore) -> dict[str, Any]:
    """Imported records pass no sync pipeline: run its data-quality checks over the store."""
    from pssync.onboarding.checks import run_checks

    return run_checks(store, exceptions).as_dict()


def export_command(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default stdout).")
    ] = None,
    entity: Annotated[str | None, typer.Option(help="Only this entity type.")] = None,
    known_at: Annotated[
        dt.datetime | None,
        typer.Option(help="As pssync knew it at this time (ISO 8601, UTC if no offset)."),
    ] = None,
    history: Annotated[
        bool, typer.Option(help="Every valid-time version, not just the latest.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Write canonical records as JSONL, the same format `pssync import` reads."""
    store = open_store(db)
    if known_at is not None and known_at.tzinfo is None:
        known_at = known_at.replace(tzinfo=dt.UTC)
    lines = export_lines(store, entity_type=entity, known_at=known_at, history=history)
    if out is None:
        write_export(lines, sys.stdout)
        return
    with out.open("w", encoding="utf-8") as handle:
        count = write_export(lines, handle)
    console.print(f"wrote {count} records to {out}")


def print_summary(summary: dict[str, object]) -> None:
    table = Table(title=f"golden store: {summary['database']}")
    table.add_column("entity type")
    table.add_column("records", justify="right")
    records = summary["records"]
    assert isinstance(records, dict)
    for entity_type, n in records.items():
        table.add_row(entity_type, str(n))
    table.add_row("[bold]total[/bold]", f"[bold]{summary['total_records']}[/bold]")
    console.print(table)
    console.print(f"cross-system IDs by system: {summary['xrefs_by_system']}")
    console.print(f"rows: {summary['rows']}")


def status_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Summarise the golden store: records per entity type, xrefs per system, row counts."""
    summary = store_summary(open_store(db))
    if as_json:
        emit_json(summary)
    else:
        print_summary(summary)


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    as_json: JsonOption = False,
    anchors: Annotated[
        Path | None,
        typer.Option("--anchors", help="Anchors exported by `pssync audit anchor` to check too."),
    ] = None,
) -> None:
    """Recompute the audit log's hash chain (keyed with PSSYNC_AUDIT_KEY when set) and check
    exported anchors; fail and name the first row that was tampered with."""
    try:
        result = verify_chain(open_store(db).engine)
        pinned = audit_anchors.parse(anchors.read_text("utf-8").splitlines()) if anchors else []
    except (AuditKeyError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    if result.ok and pinned:
        broken = audit_anchors.check(open_store(db).engine, pinned)
        if broken is not None:
            result = VerifyResult(False, result.rows_checked, broken[0], broken[1], result.keyed)
    if as_json:
        emit_json({**result.__dict__, "anchors_checked": len(pinned)})
    elif result.ok:
        how = "keyed with PSSYNC_AUDIT_KEY" if result.keyed else "unkeyed: set PSSYNC_AUDIT_KEY"
        console.print(
            f"[green]audit log intact[/green]: {result.rows_checked} rows verified ({how}),"
            f" {len(pinned)} anchors matched"
        )
    if not result.ok:
        if not as_json:
            raise fail(f"audit log broken: {result.problem}")
        raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(
    db: DbOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Append the anchor to this file (default: print it)."),
    ] = None,
) -> None:
    """Export the audit log's newest row and hash, to keep outside the database (another host,
    a write-once bucket): `pssync audit verify --anchors FILE` then detects a log cut short or
    restored from an older copy."""
    anchor = audit_anchors.take(open_store(db).engine)
    if out is None:
        typer.echo(anchor.line())
        return
    with out.open("a", encoding="utf-8") as handle:
        handle.write(anchor.line() + "\n")
    console.print(f"anchored audit row {anchor.seq} in {out}")
