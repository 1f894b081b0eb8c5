"""The measuring stick reads zero on the truth itself: a golden store holding exactly the
firm's truth (imported as canonical JSONL) has every record identical, no difference, and the
same forecast and KPIs as the truth loaded at valid time."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pssync.demo.firm_truth import firm_truth
from pssync.fidelity import check_fidelity
from pssync.store import GoldenStore
from pssync.store.jsonl import import_lines

TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def small_truth():  # type: ignore[no-untyped-def]
    return firm_truth("small", 0, TODAY, steps=2)


def test_truth_against_itself_is_identical(store: GoldenStore, small_truth) -> None:  # type: ignore[no-untyped-def]
    report = import_lines(store, small_truth.lines, system="truth")
    assert not report.rejected
    result = check_fidelity(store, small_truth.lines, as_of=small_truth.today)
    records = result.records.totals()
    assert result.records.differences == []
    assert records.identical == records.truth == records.golden > 10_000
    assert result.missing_types == []
    assert result.forecast is not None and result.kpis is not None
    for name, row in result.forecast.items():
        if isinstance(row, dict):
            assert Decimal(row["difference"]) == 0, (name, row)
    for name in ("conversion_time", "project_code_sla", "start_variance", "milestone_adherence"):
        assert result.kpis[name]["synced"] == result.kpis[name]["truth"], name
    assert result.headline().startswith("golden store vs firm: 100.0% of records identical")

    # With everything known now (`pssync fidelity --known-now`) the stick still reads zero.
    now = check_fidelity(store, small_truth.lines, as_of=small_truth.today, known_now=True)
    assert now.forecast is not None and now.forecast["known_now"] is True
    for name, row in now.forecast.items():
        if isinstance(row, dict):
            assert Decimal(row["difference"]) == 0, (name, row)


def test_a_changed_field_is_a_named_defect(store: GoldenStore, small_truth) -> None:  # type: ignore[no-untyped-def]
    lines = list(small_truth.lines)
    for i, line in enumerate(lines):
        fact = json.loads(line)
        if fact["entity_type"] == "Contact":
            fact["payload"]["last_name"] = "Tampered"
            lines[i] = json.dumps(fact)
            target = fact["payload"]["id"]
            break
    import_lines(store, lines, system="truth")
    result = check_fidelity(store, small_truth.lines, as_of=small_truth.today, outcomes=False)
    [defect] = result.records.unexplained
    assert (defect.entity_type, defect.truth_id, defect.field, defect.golden) == (
        "Contact",
        target,
        "last_name",
        "Tampered",
    )
