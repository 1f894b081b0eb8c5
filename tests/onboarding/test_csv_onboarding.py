"""The whole onboarding of a small CSV with planted problems, through the CLI:

init -> import accounts and deals (the column mapping guessed and saved) -> check -> fix each
problem where a user would (a crosswalk entry in pssync.yaml, the file, a merge) -> replay or
import again -> forecast. Every exception closes after its fix and no row is lost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.store import GoldenStore, open_engine

runner = CliRunner()

ACCOUNTS = """account,sector,legal_entity
Acme Services,technology,US01
Beta Tech,software,US01
Betatech,software,US01
Cobalt Retail,retail,
"""
# D2: a product spelled "GTXPro" where the crosswalk knows "GTX Pro"; D3: no account;
# D4: open, its close date long past.
HEADER = "opportunity_id,sales_agent,product,account,deal_stage,close_date,close_value,"
DEALS = (
    HEADER
    + """probability,is_closed,is_won
D1,Moses Frase,GTX Pro,Acme Services,Won,2026-02-01,1200,100,true,true
D2,Moses Frase,GTXPro,Beta Tech,Engaging,2027-01-31,5000,40,false,false
D3,Anna Snelling,MG Special,,Engaging,2027-02-28,3000,40,false,false
D4,Anna Snelling,GTX Pro,Cobalt Retail,Engaging,2025-06-30,900,20,false,false
"""
)


def run(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.output)


def open_exceptions() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for exc in run("exceptions", "list"):
        found.setdefault(exc["category"], []).append(exc)
    return found


@pytest.fixture
def firm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    (tmp_path / "deals.csv").write_text(DEALS)
    return tmp_path


def test_onboarding_a_csv_closes_every_exception_and_loses_no_row(firm: Path) -> None:
    init = runner.invoke(
        app,
        [
            "init",
            "--crm",
            "salesforce",
            "--non-interactive",
            "--set",
            "crosswalks={service_line: {GTX Pro: sl-gtx, MG Special: sl-mg}, "
            "legal_entity: {US01: le-us01}}",
        ],
    )
    assert init.exit_code == 0, init.output

    # Import: the mapping is guessed from the headers and saved for the next import.
    accounts = run("import", "--csv", "accounts.csv", "--entity", "accounts",
                   "--save-mapping", "accounts-map.yaml")  # fmt: skip
    assert accounts["created"] == 4 and accounts["rejected"] == []
    deals = run("import", "--csv", "deals.csv", "--entity", "opportunities",
                "--save-mapping", "deals-map.yaml")  # fmt: skip
    assert deals["created"] == 2
    # Imported records pass the same checks as synced ones, at once.
    assert deals["checks"]["found"]["stale_stage"] == 1
    rejected = {r["row"]: r for r in deals["rejected"]}
    assert rejected[3]["category"] == "unmapped_value"
    assert "did you mean 'GTX Pro'" in rejected[3]["reason"]
    assert rejected[4]["category"] == "missing_attribute" and rejected[4]["field"] == "account_id"
    saved = yaml.safe_load((firm / "deals-map.yaml").read_text())
    fields = saved["objects"]["Opportunity"]["fields"]
    assert fields["amount"]["money"]["amount"] == "close_value"
    assert fields["service_line_id"] == {"from": "product", "crosswalk": "service_line"}

    # Check: the governance checks over what is stored (nothing new since the import's own).
    checked = run("check")
    assert checked["raised"] == 0
    assert checked["found"] == {
        "stale_stage": 1,
        "duplicate_customer": 2,
        "missing_legal_entity": 1,
    }
    raised = open_exceptions()
    assert {k: len(v) for k, v in raised.items()} == {
        "unmapped_value": 1,
        "missing_attribute": 1,
        "stale_stage": 1,
        "duplicate_customer": 2,
        "missing_legal_entity": 1,
    }
    unmapped = raised["unmapped_value"][0]
    assert unmapped["details"]["suggestions"][0] == {
        "value": "GTX Pro",
        "maps_to": "sl-gtx",
        "score": 1.0,
    }
    duplicate = raised["duplicate_customer"][0]
    assert duplicate["details"]["candidates"][0]["score"] >= 0.9

    # Fix 1: the crosswalk in pssync.yaml, then replay the held row.
    config = yaml.safe_load((firm / "pssync.yaml").read_text())
    config["crosswalks"]["service_line"]["GTXPro"] = "sl-gtx"
    (firm / "pssync.yaml").write_text(yaml.safe_dump(config))
    replayed = run("exceptions", "replay", "--category", "unmapped_value")
    assert [r["state"] for r in replayed] == ["resolved"]

    # Fix 2: the file (an account for D3, a new close date for D4, Cobalt's legal entity), then
    # import it again with the saved mapping: the rows that import close their exceptions, and
    # the checks after the import close the stale deal's.
    (firm / "deals.csv").write_text(
        DEALS.replace("MG Special,,", "MG Special,Acme Services,").replace(
            "2025-06-30", "2027-06-30"
        )
    )
    again = run("import", "--csv", "deals.csv", "--entity", "deals", "--mapping", "deals-map.yaml")
    assert again["rejected"] == [] and again["closed_exceptions"] == 1
    assert again["checks"]["resolved"] == 1 and "stale_stage" not in again["checks"]["found"]
    (firm / "accounts.csv").write_text(ACCOUNTS.replace("retail,", "retail,US01"))
    run("import", "--csv", "accounts.csv", "--entity", "accounts",
        "--mapping", "accounts-map.yaml", "--no-check")  # fmt: skip
    # Cobalt's legal entity: replaying a check runs it again, and it passes now.
    replayed = run("exceptions", "replay", "--category", "missing_legal_entity")
    assert [r["state"] for r in replayed] == ["resolved"]

    # Fix 3: the duplicate is one customer: merge it into the survivor.
    store = GoldenStore(open_engine("sqlite:///pssync.db"))
    ids = {v.payload["name"]: v.record_id for v in store.iter_records("Account")}
    merged = run("exceptions", "merge", ids["Beta Tech"], ids["Betatech"])
    assert len(merged["resolved_exceptions"]) == 2

    final = run("check")
    assert final["found"] == {} and final["raised"] == final["resolved"] == 0
    assert open_exceptions() == {}

    # No row lost: every row of both files is a live golden record.
    for entity, column, text in (("Opportunity", 0, DEALS), ("Account", 0, ACCOUNTS)):
        for line in text.strip().splitlines()[1:]:
            source_id = line.split(",")[column]
            found = store.resolve_xref("csv", entity, source_id)
            assert found is not None, (entity, source_id)
            assert store.get(entity, found[1]) is not None, (entity, source_id)
    deal = store.get("Opportunity", store.resolve_xref("csv", "Opportunity", "D2")[1])  # type: ignore[index]
    assert deal is not None and deal.payload["service_line_id"] == "sl-gtx"
    assert deal.payload["amount"] == {"amount": "5000", "currency": "USD"}

    # And the forecast reads them: the deal once held for its product is in the pipeline.
    forecast = run("forecast")
    assert {c["service_line"] for c in forecast["cells"]} >= {"sl-gtx", "sl-mg"}
