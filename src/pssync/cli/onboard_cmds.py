"""`pssync import --csv` (with its mapping step) and `pssync check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pssync.cli.output import console, emit_json, fail, open_exceptions, open_store, settings
from pssync.mapping.spec import MappingSpec

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: from pssync.yaml, else ./pssync.db)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _mapping(entity: str, headers: list[str], saved: Path | None, show: bool) -> MappingSpec:
    """The saved mapping, or one guessed from the headers (shown with its scores)."""
    from pssync.onboarding import csv_mapping

    config = settings()
    if saved is not None:
        try:
            spec = csv_mapping.load(saved, entity, config.crosswalks)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if show:
            console.print(f"mapping from {saved}", highlight=False)
    else:
        guesses = csv_mapping.guess(entity, headers)
        spec = csv_mapping.spec_from(entity, guesses, headers)
        for walk, entries in config.crosswalks.items():
            spec.crosswalks.setdefault(walk, {}).update(entries)
        if show:
            table = Table(title=f"{entity}: columns guessed from the headers")
            for column in ("column", "canonical field", "score"):
                table.add_column(column)
            for g in guesses:
                table.add_row(g.column, g.field, f"{g.score:.2f}")
            unused = [h for h in headers if h not in {g.column for g in guesses}]
            console.print(table)
            if unused:
                console.print(f"  not imported: {', '.join(unused)}", highlight=False)
    spec.apply_default_currency(config.reporting_currency)
    missing = csv_mapping.missing_required(entity, spec)
    if missing and show:
        console.print(
            f"  [yellow]no column for {', '.join(missing)}[/yellow]: those rows will be refused;"
            " save the mapping, edit it and pass it with --mapping",
            highlight=False,
        )
    return spec


def import_csv(
    file: Path,
    entity_name: str,
    mapping: Path | None,
    save_mapping: Path | None,
    db: str | None,
    as_json: bool,
    check: bool = True,
) -> None:
    from pssync.onboarding import csv_mapping
    from pssync.onboarding.checks import CheckReport, run_checks
    from pssync.onboarding.csv_import import CsvImporter, read_rows

    try:
        entity = csv_mapping.entity_type(entity_name)
        headers, rows = read_rows(file)
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    spec = _mapping(entity, headers, mapping, not as_json)
    if save_mapping is not None:
        csv_mapping.save(spec, save_mapping)
        if not as_json:
            console.print(f"  mapping saved to {save_mapping}", highlight=False)
    store = open_store(db)
    importer = CsvImporter(store, open_exceptions(store), spec, entity)
    try:
        report = importer.run(rows, file.name)
    except (UnicodeDecodeError, OSError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    checked = run_checks(store, importer.exceptions) if check else CheckReport()
    if as_json:
        emit_json({"entity": entity, **report.as_dict(), "checks": checked.as_dict()})
    else:
        bad = "red" if report.rejected else "green"
        console.print(
            f"{file}: {report.rows} rows, [green]{report.created} created[/green], "
            f"{report.updated} updated, {report.unchanged} unchanged, "
            f"[{bad}]{len(report.rejected)} rejected[/], {report.closed} exception(s) closed"
        )
        for r in report.rejected[:20]:
            console.print(f"  row {r.row}: {r.message}", highlight=False, markup=False)
        if len(report.rejected) > 20:
            console.print(f"  ... and {len(report.rejected) - 20} more")
        if check:
            found = ", ".join(f"{n} {c}" for c, n in sorted(checked.found.items()))
            console.print(
                f"  checks over the store: {found or 'nothing found'} ({checked.raised} new,"
                f" {checked.resolved} resolved)",
                highlight=False,
            )
        if report.rejected:
            console.print(
                "  each rejected row is an exception: `pssync exceptions list`; fix the crosswalk"
                " in pssync.yaml and `pssync exceptions replay --category unmapped_value`, or fix"
                " the file and import it again"
            )
    if report.rejected and report.rows == len(report.rejected):
        raise typer.Exit(1)


def check_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Run every data-quality check over the records already in the golden store (stale
    stages, deals without a service line, accounts without a legal entity, duplicate
    customers): raise what it finds as exceptions, resolve the ones it no longer finds."""
    from pssync.onboarding.checks import run_checks

    store = open_store(db)
    report = run_checks(store, open_exceptions(store))
    if as_json:
        emit_json(report.as_dict())
        return
    checked = ", ".join(f"{n} {t}" for t, n in report.records.items())
    console.print(f"checked {checked}", highlight=False)
    for category, n in sorted(report.found.items()):
        console.print(f"  {category}: {n}", highlight=False)
    console.print(
        f"  {report.raised} new exception(s), {report.resolved} resolved "
        "(`pssync exceptions list` to see them)",
        highlight=False,
    )
