"""CSV rows of every onboarding entity: accounts, deals, their line items, projects and
actuals, through guessed mappings; bad rows named by row number with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from pssync.governance.exceptions import ExceptionStore
from pssync.onboarding import csv_mapping
from pssync.onboarding.csv_import import CsvImporter, CsvReport, read_rows
from pssync.store import GoldenStore, open_engine


@pytest.fixture
def store(tmp_path: Path) -> GoldenStore:
    return GoldenStore(open_engine(f"sqlite:///{tmp_path}/golden.db"))


def load(
    store: GoldenStore, tmp_path: Path, entity: str, text: str, walks: dict[str, dict[str, str]]
) -> CsvReport:
    path = tmp_path / f"{entity}.csv"
    path.write_text(text)
    kind = csv_mapping.entity_type(entity)
    headers, rows = read_rows(path)
    spec = csv_mapping.spec_from(kind, csv_mapping.guess(kind, headers), headers)
    for walk, entries in walks.items():
        spec.crosswalks.setdefault(walk, {}).update(entries)
    spec.apply_default_currency("USD")
    return CsvImporter(store, ExceptionStore(store.engine), spec, kind).run(rows, path.name)


def test_every_entity_lands_and_references_resolve(store: GoldenStore, tmp_path: Path) -> None:
    walks = {"service_line": {"ERP": "sl-erp"}, "role": {"Consultant": "role-con"}}
    assert load(store, tmp_path, "accounts", "Account Name,Industry\nNorthwind,retail\n", walks)
    deals = (
        "Deal ID,Deal Name,Account,Stage,Close Date,Amount,Currency,Probability,Service Line\n"
        "OP-1,Northwind ERP,Northwind,Proposal,2027-03-31,100000,EUR,50,ERP\n"
    )
    assert load(store, tmp_path, "deals", deals, walks).created == 1
    lines = (
        "Line ID,Opportunity,Role,Hours,Unit Price,Currency\n"
        "L1,OP-1,Consultant,120,150,EUR\n"
        "L2,OP-9,Consultant,10,150,EUR\n"
    )
    report = load(store, tmp_path, "line_items", lines, walks)
    assert [(r.row, r.field) for r in report.rejected] == [(3, "opportunity_id")]
    assert "names no Opportunity" in report.rejected[0].message
    projects = "Project Code,Project Name,Customer,Opportunity,Planned Start\n"
    projects += "PRJ-1,Northwind ERP delivery,Northwind,OP-1,2027-04-01\n"
    assert load(store, tmp_path, "projects", projects, walks).created == 1
    actuals = "Revenue ID,Project,Recognized Date,Amount,Currency\nR1,PRJ-1,2027-04-30,12500,EUR\n"
    assert load(store, tmp_path, "actuals", actuals, walks).created == 1

    deal = store.get("Opportunity", "csv-opportunity-OP-1")
    assert deal is not None
    assert deal.payload["account_id"] == "csv-account-Northwind"
    assert deal.payload["amount"] == {"amount": "100000", "currency": "EUR"}
    (line,) = deal.payload["line_items"]
    assert line["role_id"] == "role-con" and line["hours"] == "120"
    (project,) = store.iter_records("Project")
    assert project.payload["opportunity_id"] == "csv-opportunity-OP-1"
    assert project.payload["project_code"] == "PRJ-1"
    revenue = next(iter(store.iter_records("RevenueEvent")))
    assert revenue.payload["project_id"] == project.record_id  # named by its code


def test_bad_rows_are_named_and_the_rest_imported(store: GoldenStore, tmp_path: Path) -> None:
    load(store, tmp_path, "accounts", "account\nAcme\n", {})
    deals = (
        "opportunity_id,account,deal_stage,close_date,close_value,probability\n"
        "D1,Acme,Won,2027-01-31,100,100\n"
        "D2,Acme,Won,31/01/2027,100,100\n"
        "D3,Acme,Won,2027-01-31,lots,100\n"
        "D4,Nobody,Won,2027-01-31,100,100\n"
    )
    report = load(store, tmp_path, "deals", deals, {})
    assert report.created == 1
    assert {r.row: r.field for r in report.rejected} == {
        3: "close_date",
        4: "amount",
        5: "account_id",
    }
    raised = ExceptionStore(store.engine).find(system="csv")
    assert sorted(e.details["row"] for e in raised) == [3, 4, 5]
    assert all(e.message.startswith("deals.csv row") for e in raised)


def test_a_saved_mapping_reloads(tmp_path: Path) -> None:
    spec = csv_mapping.spec_from("Opportunity", csv_mapping.guess("Opportunity", ["Deal", "Value"]))
    csv_mapping.save(spec, tmp_path / "m.yaml")
    again = csv_mapping.load(tmp_path / "m.yaml", "Opportunity")
    assert again.objects == spec.objects
    with pytest.raises(ValueError, match="not Account"):
        csv_mapping.load(tmp_path / "m.yaml", "Account")


def test_a_jsonl_import_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from pssync.cli.main import app

    monkeypatch.chdir(tmp_path)
    lines = [
        {"entity_type": "Account", "payload": {"id": "a1", "name": "Beta Tech"}},
        {"entity_type": "Account", "payload": {"id": "a2", "name": "Betatech"}},
    ]
    text = "\n".join(json.dumps({**x, "valid_from": "2026-01-01T00:00:00+00:00"}) for x in lines)
    (tmp_path / "in.jsonl").write_text(text + "\n")
    result = CliRunner().invoke(app, ["import", "in.jsonl", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["checks"]["found"]
    assert found == {"duplicate_customer": 2, "missing_legal_entity": 2}
