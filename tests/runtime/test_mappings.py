"""What a connector translates with: its shipped mapping by default, crosswalk overrides from
pssync.yaml merged over it, and the reporting currency for amounts without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.config import load_settings
from pssync.mapping.translator import TranslationError, Translator
from pssync.runtime.mappings import mapping_path, mapping_spec

SHIPPED = Path(__file__).parents[2] / "src/pssync/connectors"
runner = CliRunner()


def _settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pssync.yaml"
    path.write_text(text)
    return path


def _deal(**extra: object) -> dict[str, object]:
    return {
        "Id": "006000000000001AAA",
        "Name": "GTX rollout",
        "StageName": "Prospecting",
        "Amount": 1200,
        "CloseDate": "2027-01-31",
        **extra,
    }


def test_omitted_mapping_is_the_connectors_own(tmp_path: Path) -> None:
    path = _settings(
        tmp_path,
        "connectors:\n  crm: {type: salesforce, role: crm}\n"
        "  psa: {type: kantata, role: psa}\n"
        "  pse: {type: salesforce, role: psa, options: {profile: certinia}}\n"
        "  own: {type: netsuite, role: erp, mapping: builtin}\n",
    )
    settings = load_settings(path)
    assert mapping_path(settings.connectors["crm"]) == SHIPPED / "salesforce/mapping.yaml"
    assert mapping_path(settings.connectors["psa"]) == SHIPPED / "kantata/mapping.yaml"
    assert mapping_path(settings.connectors["pse"]) == SHIPPED / "salesforce/certinia.yaml"
    assert mapping_path(settings.connectors["own"]) == SHIPPED / "netsuite/mapping.yaml"
    spec = mapping_spec(settings, "crm", tmp_path)
    assert spec is not None and "Opportunity" in spec.objects


def test_a_named_mapping_is_relative_to_the_config_file(tmp_path: Path) -> None:
    own = tmp_path / "maps" / "crm.yaml"
    own.parent.mkdir()
    own.write_text((SHIPPED / "salesforce/mapping.yaml").read_text())
    path = _settings(
        tmp_path, "connectors:\n  crm: {type: salesforce, role: crm, mapping: maps/crm.yaml}\n"
    )
    assert mapping_path(load_settings(path).connectors["crm"], tmp_path) == own


def test_single_currency_org_amounts_take_the_reporting_currency(tmp_path: Path) -> None:
    path = _settings(
        tmp_path, "reporting_currency: EUR\nconnectors:\n  crm: {type: salesforce, role: crm}\n"
    )
    spec = mapping_spec(load_settings(path), "crm")
    assert spec is not None
    fields = Translator(spec).to_canonical("Opportunity", _deal())
    assert fields["amount"] == {"amount": "1200", "currency": "EUR"}
    # A record that names its currency keeps it.
    named = Translator(spec).to_canonical("Opportunity", _deal(CurrencyIsoCode="GBP"))
    assert named["amount"]["currency"] == "GBP"


def test_a_connectors_currency_wins_over_the_reporting_currency(tmp_path: Path) -> None:
    path = _settings(
        tmp_path,
        "reporting_currency: USD\n"
        "connectors:\n  crm: {type: salesforce, role: crm, currency: CAD}\n",
    )
    spec = mapping_spec(load_settings(path), "crm")
    assert spec is not None
    assert Translator(spec).to_canonical("Opportunity", _deal())["amount"]["currency"] == "CAD"


def test_crosswalk_overrides_merge_over_the_mapping_files(tmp_path: Path) -> None:
    path = _settings(
        tmp_path,
        "crosswalks:\n  service_line: {GTX Pro: sl-erp, ERP: sl-cloud}\n"
        "connectors:\n  crm:\n    type: salesforce\n    role: crm\n"
        "    crosswalks:\n      service_line: {GTXPro: sl-erp}\n",
    )
    spec = mapping_spec(load_settings(path), "crm")
    assert spec is not None
    walk = spec.crosswalks["service_line"]
    assert walk["GTX Pro"] == walk["GTXPro"] == "sl-erp"  # top level, then the connector's
    assert walk["ERP"] == "sl-cloud"  # an override replaces the file's entry
    assert walk["DATA"] == "sl-data"  # the file's other entries stay
    translator = Translator(spec)
    assert translator.to_canonical("Opportunity", _deal(Service_Category__c="GTXPro"))[
        "service_line_id"
    ] == ("sl-erp")
    with pytest.raises(TranslationError, match="'Quantum' is not in crosswalk 'service_line'"):
        translator.to_canonical("Opportunity", _deal(Service_Category__c="Quantum"))


def test_config_check_warns_of_an_override_no_mapping_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PSSYNC__CONNECTORS__CRM__CLIENT_SECRET", "s")
    _settings(
        tmp_path,
        "connectors:\n  crm:\n    type: salesforce\n    role: crm\n"
        "    base_url: https://x.my.salesforce.com\n    client_id: c\n"
        "    crosswalks:\n      servce_line: {GTXPro: sl-erp}\n",
    )
    result = runner.invoke(app, ["config", "check", "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["ok"] is True, result.output
    (warning,) = report["warnings"]
    assert warning["key"] == "connectors.crm.crosswalks.servce_line"
    assert "service_line" in warning["problem"]


def test_config_check_refuses_a_mapping_that_does_not_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PSSYNC__CONNECTORS__CRM__CLIENT_SECRET", "s")
    (tmp_path / "broken.yaml").write_text("system: salesforce\nobjects: [1]\n")
    _settings(
        tmp_path,
        "connectors:\n  crm:\n    type: salesforce\n    role: crm\n    mapping: broken.yaml\n"
        "    base_url: https://x.my.salesforce.com\n    client_id: c\n",
    )
    result = runner.invoke(app, ["config", "check", "--json"])
    assert result.exit_code == 1
    keys = [p["key"] for p in json.loads(result.output)["problems"]]
    assert keys == ["connectors.crm.mapping"]
