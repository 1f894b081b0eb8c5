"""Hostile input to `pssync import`, fuzzed with Hypothesis (issue 14, hostile-input suite).

Any bytes in a file — broken UTF-8, binary, deep nesting, huge or repeated lines, almost-valid
records — end as a report, never a traceback: every non-blank line is either imported, reported
as an exact repeat, or rejected with its own line number (and raised as an exception holding it),
and what was imported is exactly what parses as a canonical line.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.store import GoldenStore, open_engine
from pssync.store.jsonl import import_file, parse_line

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoldenStore]:
    path = tmp_path_factory.mktemp("hostile-import") / "golden.db"
    golden = GoldenStore(open_engine(f"sqlite:///{path}"))
    yield golden
    golden.engine.dispose()


scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
payloads = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=6) | scalars},
    optional={"name": scalars, "domain": scalars, "industry": scalars},
)
records = st.fixed_dictionaries(
    {
        "entity_type": st.sampled_from(["Account", "Opportunity", "Nope"]) | scalars,
        "valid_from": st.sampled_from(
            ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00", "yesterday", "2026-02-30T00:00Z"]
        )
        | scalars,
        "payload": payloads | scalars,
    },
    optional={"system": scalars, "source_record": scalars},
)
lines = st.one_of(
    records.map(lambda r: json.dumps(r).encode()),
    st.binary(max_size=80).filter(lambda b: b"\n" not in b and b"\r" not in b),
    st.integers(min_value=1, max_value=5000).map(lambda n: b"[" * n),
    st.just(b"\xef\xbb\xbf{}"),
)


def _non_blank(chunks: list[bytes]) -> list[int]:
    """Line numbers of the non-blank lines, as the importer numbers and judges them: a line is
    blank when it is UTF-8 and only whitespace as `str.strip` sees it (Unicode separators such
    as U+001C or U+0085 included), after the byte-order mark on the first line."""
    text = b"\n".join(chunks)
    numbers = []
    for n, raw in enumerate(text.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            numbers.append(n)
            continue
        if (line.removeprefix("\ufeff") if n == 1 else line).strip():
            numbers.append(n)
    return numbers


@FUZZ
@given(chunks=st.lists(lines, min_size=1, max_size=12))
@example(chunks=[b"\x1c", b"\xc2\x85", b"{}"])  # Unicode separators alone: blank lines
def test_every_line_is_imported_repeated_or_rejected_by_number(
    store: GoldenStore, tmp_path_factory: pytest.TempPathFactory, chunks: list[bytes]
) -> None:
    path = tmp_path_factory.mktemp("file") / "in.jsonl"
    path.write_bytes(b"\n".join(chunks))
    report = import_file(store, path, max_line_bytes=4096)
    accounted = report.created + report.updated + report.unchanged
    accounted += len(report.rejected) + len(report.repeated)
    assert report.lines == accounted
    rejected = [r.line_number for r in report.rejected]
    assert len(set(rejected)) == len(rejected)
    assert set(rejected) | {n for n, _ in report.repeated} <= set(_non_blank(chunks)) | {1}
    for r in report.rejected:
        assert r.reason  # says why
    text_lines = path.read_bytes().split(b"\n")
    for number in set(_non_blank(chunks)) - set(rejected) - {n for n, _ in report.repeated}:
        raw = text_lines[number - 1].removeprefix(b"\xef\xbb\xbf")
        parse_line(raw.decode("utf-8").strip(), "import")  # imported lines are sound lines


@settings(max_examples=25, deadline=None)
@given(chunks=st.lists(lines, min_size=1, max_size=6))
def test_the_cli_never_shows_a_traceback(chunks: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        path.write_bytes(b"\n".join(chunks))
        db = f"sqlite:///{folder}/g.db"
        result = CliRunner().invoke(app, ["import", str(path), "--db", db, "--json"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1)
        report: dict[str, Any] = json.loads(result.output)
        assert len(report["exceptions"]) == len(report["rejected"])
