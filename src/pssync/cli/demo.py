"""`pssync demo`: for now, load the sample firm shipped in the package and summarise the store.

It grows into the full demo (emulators, sync, forecast, dashboard) as those parts land.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pssync.cli.output import console, emit_json, open_store, progress
from pssync.cli.store_cmds import DbOption, JsonOption, print_import_report, print_summary
from pssync.store.jsonl import import_lines
from pssync.store.summary import store_summary


def sample_lines() -> list[str]:
    text = resources.files("pssync.samples").joinpath("sample_firm.jsonl").read_text("utf-8")
    return text.splitlines()


def demo_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Load the sample services firm into the golden store and print what it holds."""
    store = open_store(db)
    lines = sample_lines()
    with progress(not as_json) as bar:
        task = bar.add_task("loading the sample firm", total=len(lines))
        report = import_lines(
            store, lines, system="sample", on_progress=lambda n: bar.advance(task, n)
        )
    summary = store_summary(store)
    if as_json:
        emit_json({"import": report.as_dict(), "store": summary})
        return
    print_import_report(report, Path("sample_firm.jsonl"))
    print_summary(summary)
    console.print("next: `pssync export`, `pssync audit verify`, `pssync status`")
