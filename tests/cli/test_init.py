"""`pssync init` from flags: the systems named, the flows they allow, refusals that say why."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.config import load_settings
from pssync.runtime.mappings import mapping_path

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_crm_only_firm_gets_no_flows_and_its_own_currency(workdir: Path) -> None:
    result = runner.invoke(
        app, ["init", "--crm", "salesforce", "--currency", "eur", "--non-interactive"]
    )
    assert result.exit_code == 0, result.output
    settings = load_settings(workdir / "pssync.yaml")
    assert set(settings.connectors) == {"crm"}
    assert settings.reporting_currency == "EUR"
    assert settings.flows == {}  # no PSA or ERP to hand anything to
    assert mapping_path(settings.connectors["crm"]) is not None


def test_all_three_systems_switch_on_the_flows_between_them(workdir: Path) -> None:
    result = runner.invoke(
        app,
        ["init", "--crm", "salesforce", "--psa", "kantata", "--erp", "sap_s4", "--non-interactive"],
    )
    assert result.exit_code == 0, result.output
    assert "PSSYNC__CONNECTORS__ERP__PASSWORD" in result.output
    settings = load_settings(workdir / "pssync.yaml")
    assert settings.connectors["erp"].type == "sap_s4"
    assert set(settings.flows) == {
        "opportunity_to_project",
        "closed_won_handoff",
        "resource_feedback",
        "financial_actuals",
    }


def test_set_writes_any_other_key(workdir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "init",
            "--crm",
            "salesforce",
            "--non-interactive",
            "--set",
            "connectors.crm.crosswalks.service_line={GTXPro: sl-erp}",
            "--set",
            "page_processes=2",
        ],
    )
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((workdir / "pssync.yaml").read_text())
    assert data["connectors"]["crm"]["crosswalks"] == {"service_line": {"GTXPro": "sl-erp"}}
    assert data["page_processes"] == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--crm", "hubspot"], "no such connector"),
        (["--crm", "none"], "choose at least one system"),
        (["--crm", "salesforce", "--currency", "dollars"], "not an ISO 4217 code"),
        (["--crm", "salesforce", "--set", "connectors.crm.role=boss"], "not written"),
        (["--crm", "salesforce", "--set", "nokey"], "expected KEY=VALUE"),
    ],
)
def test_refusals_say_why_and_write_nothing(workdir: Path, args: list[str], says: str) -> None:
    result = runner.invoke(app, ["init", "--non-interactive", *args])
    assert result.exit_code == 1
    assert says in result.output
    assert not (workdir / "pssync.yaml").exists()


def test_prompts_when_asked(workdir: Path) -> None:
    answers = "salesforce\nnone\nnone\nhttps://acme.my.salesforce.com\nGBP\n"
    result = runner.invoke(app, ["init", "--interactive"], input=answers)
    assert result.exit_code == 0, result.output
    settings = load_settings(workdir / "pssync.yaml")
    assert set(settings.connectors) == {"crm"}
    assert settings.connectors["crm"].base_url == "https://acme.my.salesforce.com"
    assert settings.reporting_currency == "GBP"
