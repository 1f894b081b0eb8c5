"""`pssync fidelity`: the golden store against a canonical truth (docs/fidelity.md).

The truth is a canonical JSONL file (`--against`; `pssync demo` leaves `pssync-truth.jsonl`
and the planted answer key `pssync-planted.jsonl`), or a sandbox firm regenerated from its
size, seed and start date (`--firm`). Only local state is read: the golden store named by
`--db` or pssync.yaml, and its exceptions.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pssync.cli.forecast_cmds import KnownNowOption
from pssync.cli.output import console, emit_json, fail, open_store
from pssync.demo.firm_truth import PLANTED_FILE, firm_truth
from pssync.fidelity import FidelityReport, TruthError, check_fidelity, read_planted
from pssync.fidelity.records import Difference
from pssync.model import CanonicalValidationError

DateOption = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def _planted_next_to(path: Path) -> Path | None:
    for candidate in (
        path.with_name(path.name.replace("truth", "planted")),
        path.with_name(PLANTED_FILE),
    ):
        if candidate != path and candidate.exists():
            return candidate
    return None


def _print(report: FidelityReport, as_of: dt.date) -> None:
    data = report.as_dict(limit=15)
    table = Table(title=f"golden store vs truth, as of {as_of}")
    for column in (
        "entity",
        "truth",
        "golden",
        "matched",
        "identical",
        "missing",
        "extra",
        "fields differ",
        "unexplained",
    ):
        table.add_column(column, justify="left" if column == "entity" else "right")
    for name, s in data["records"]["by_type"].items():
        table.add_row(
            name,
            *(
                str(s[k])
                for k in (
                    "truth",
                    "golden",
                    "matched",
                    "identical",
                    "missing",
                    "extra",
                    "field_differences",
                    "unexplained",
                )
            ),
        )
    console.print(table)
    examples: dict[tuple[str, str, str | None], list[Difference]] = {}
    for d in report.records.unexplained:
        examples.setdefault((d.entity_type, d.kind, d.field), []).append(d)
    for group in sorted(examples.values(), key=len, reverse=True)[:20]:
        console.print(f"  {len(group):>6} x defect, e.g. {group[0].describe()}", highlight=False)
    for kind, row in data["not_recorded_by_any_source"].items():
        console.print(
            f"  {row['count']:>6} x not recorded by any source system: {kind} ({row['why']})",
            highlight=False,
        )
    if data["planted"]:
        p = data["planted"]
        console.print(
            f"exceptions vs planted: recall {p['recall']} ({p['detected']}/{p['planted']}), "
            f"precision {p['precision']} ({p['true_exceptions']}/{p['exceptions_scored']})"
        )
    for section in ("forecast", "kpis"):
        rows: dict[str, Any] = data[section] or {}
        for name, row in rows.items():
            if isinstance(row, dict):
                console.print(f"{section} {name}: synced {row['synced']}, truth {row['truth']}")
    console.print(f"[bold]{report.headline()}[/bold]", highlight=False)


def fidelity_command(
    against: Annotated[
        Path | None, typer.Option("--against", help="Canonical truth JSONL to compare with.")
    ] = None,
    planted: Annotated[
        Path | None,
        typer.Option(help="Planted misalignments JSONL (default: the planted file next to it)."),
    ] = None,
    firm: Annotated[
        str | None, typer.Option(help="Instead of a file: regenerate a sandbox firm (small...).")
    ] = None,
    seed: Annotated[int, typer.Option(help="With --firm: its seed.")] = 0,
    firm_start: DateOption = None,
    clock_days: Annotated[int, typer.Option(min=0, help="With --firm: days its clock played.")] = 0,
    as_of: DateOption = None,
    known_now: KnownNowOption = False,
    outcomes: Annotated[bool, typer.Option(help="Also compare the forecast and KPIs.")] = True,
    strict: Annotated[bool, typer.Option(help="Exit 1 when a difference is unexplained.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Golden store vs canonical truth: per entity matched / missing / extra / fields that
    differ, each difference tied to an open exception or named as a defect; exceptions vs the
    planted misalignments; forecast and KPIs on both."""
    if (against is None) == (firm is None):
        raise fail("give either --against FILE or --firm SIZE (with --firm-start)")
    try:
        if against is not None:
            if not against.exists():
                raise fail(f"{against}: no such file")
            lines = against.read_text(encoding="utf-8").splitlines()
            key = planted or _planted_next_to(against)
            answers = read_planted(key.read_text(encoding="utf-8").splitlines()) if key else None
        else:
            if firm_start is None:
                raise fail("--firm needs --firm-start (the firm's today when the sandbox started)")
            truth = firm_truth(str(firm), seed, firm_start.date(), clock_days)
            lines, answers = truth.lines, truth.planted
    except TruthError as exc:
        raise fail(str(exc)) from None
    date = as_of.date() if as_of else dt.datetime.now(dt.UTC).date()
    try:
        report = check_fidelity(
            open_store(db),
            lines,
            planted=answers,
            as_of=date,
            outcomes=outcomes,
            known_now=known_now,
        )
    except (TruthError, CanonicalValidationError) as exc:  # a truth the model rejects
        raise fail(f"the truth does not validate: {exc}") from None
    if as_json:
        emit_json(report.as_dict())
    else:
        _print(report, date)
    if strict and report.records.unexplained:
        raise typer.Exit(1)
