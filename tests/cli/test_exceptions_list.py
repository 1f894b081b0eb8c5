"""`pssync exceptions list` a page at a time: only the page is read and drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.governance.exceptions import ExceptionStore, NewException
from pssync.store import GoldenStore, open_engine

runner = CliRunner()
ROWS = 10_500


@pytest.fixture
def many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path}/pssync.db"
    store = ExceptionStore(GoldenStore(open_engine(url)).engine)
    with store.engine.begin() as conn:  # ten thousand exceptions, written as one batch
        from sqlalchemy import insert

        from pssync.store.history import utcnow
        from pssync.store.tables import exception_record

        now = utcnow()
        conn.execute(
            insert(exception_record),
            [
                {
                    "id": f"{i:032x}",
                    "fingerprint": NewException(
                        "unmapped_value", "m", source_id=str(i)
                    ).fingerprint(),
                    "category": "unmapped_value" if i % 3 else "stale_stage",
                    "severity": "medium",
                    "state": "open",
                    "owner": "deal-desk",
                    "source_id": f"D{i}",
                    "message": f"deal D{i}: 'GTXPro' is not in crosswalk 'service_line'\\nmore",
                    "details": "{}",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(ROWS)
            ],
        )
    return url


def test_a_table_shows_one_page_and_says_how_to_get_the_next(many: str) -> None:
    result = runner.invoke(app, ["exceptions", "list", "--db", many])
    assert result.exit_code == 0, result.output
    assert f"{ROWS} exception(s), 1-50 shown (next: --page 2)" in result.output
    assert result.output.count("deal-desk") == 50
    assert "more" not in result.output  # a message's first line only
    assert max(len(line) for line in result.output.splitlines()) <= 100


def test_pages_and_filters_count_the_same_rows(many: str) -> None:
    result = runner.invoke(
        app,
        ["exceptions", "list", "--db", many, "--category", "stale_stage", "--limit", "20",
         "--page", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3500 exception(s), 41-60 shown (next: --page 4)" in result.output
    page = runner.invoke(
        app, ["exceptions", "list", "--db", many, "--json", "--limit", "5", "--offset", "10"]
    )
    rows = json.loads(page.output)
    assert [r["source_id"] for r in rows] == [f"D{i}" for i in range(10, 15)]
    everything = runner.invoke(app, ["exceptions", "list", "--db", many, "--json"])
    assert len(json.loads(everything.output)) == ROWS


def test_a_prefix_names_one_exception(many: str) -> None:
    shown = runner.invoke(app, ["exceptions", "show", "--db", many, f"{7:032x}"])
    assert shown.exit_code == 0 and "D7" in shown.output
    several = runner.invoke(app, ["exceptions", "show", "--db", many, "0000"])
    assert several.exit_code == 1 and "several" in several.output
