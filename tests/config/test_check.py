"""`pssync config check` catches what `pssync sync` would refuse, naming the key and where it was
set (issue 14 defect 14: it passed configs that then crashed, tracebacked on bad bytes, and
blamed pssync.yaml for an environment variable's error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pssync.cli.main import app
from pssync.config import ConfigError, load_settings
from pssync.connectors.registry import UnknownConnectorError
from pssync.runtime import build_runtime

SAP_MAPPING = Path(__file__).parents[2] / "src/pssync/connectors/sap_s4/mapping.yaml"
runner = CliRunner()


def _erp(**extra: Any) -> dict[str, Any]:
    return {
        "type": "sap_s4",
        "role": "erp",
        "base_url": "https://sap.example",
        "username": "PSSYNC",
        "password": "secret",
        **extra,
    }


def _config(tmp_path: Path, connectors: dict[str, Any], **extra: Any) -> Path:
    path = tmp_path / "pssync.yaml"
    data = {"database_url": f"sqlite:///{tmp_path}/golden.db", "connectors": connectors, **extra}
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


def _check(path: Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["config", "check", str(path), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def _by_key(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {p["key"]: p for p in report["problems"]}


def test_a_good_config_passes(tmp_path: Path) -> None:
    path = _config(tmp_path, {"erp": _erp(mapping=str(SAP_MAPPING))})
    code, report = _check(path)
    assert code == 0 and report["ok"] is True and report["problems"] == []


def test_an_unknown_connector_type_is_what_sync_would_refuse(tmp_path: Path) -> None:
    path = _config(tmp_path, {"erp": _erp(type="sap_r3")})
    with pytest.raises(UnknownConnectorError):  # what `pssync sync` hits
        build_runtime(load_settings(path), base=tmp_path)
    code, report = _check(path)
    problem = _by_key(report)["connectors.erp.type"]
    assert code == 1 and "no connector 'sap_r3'" in problem["problem"]
    assert "sap_s4" in problem["problem"] and problem["source"] == str(path)


def test_missing_credentials_name_the_key_and_its_variable(tmp_path: Path) -> None:
    erp = {k: v for k, v in _erp().items() if k != "password"}
    psa = {"type": "kantata", "role": "psa", "base_url": "https://k.example"}
    code, report = _check(_config(tmp_path, {"erp": erp, "psa": psa}))
    problems = _by_key(report)
    assert code == 1
    assert "PSSYNC__CONNECTORS__ERP__PASSWORD" in problems["connectors.erp.password"]["problem"]
    assert "kantata" in problems["connectors.psa.options.token"]["problem"]


def test_a_missing_or_broken_mapping_file_is_a_problem(tmp_path: Path) -> None:
    code, report = _check(_config(tmp_path, {"erp": _erp(mapping="nowhere.yaml")}))
    assert code == 1 and "nowhere.yaml" in _by_key(report)["connectors.erp.mapping"]["problem"]
    (tmp_path / "bad.yaml").write_bytes(b"system: sap_s4\nobjects: \xff\n")
    code, report = _check(_config(tmp_path, {"erp": _erp(mapping="bad.yaml")}))
    assert code == 1 and "connectors.erp.mapping" in _by_key(report)


def test_invalid_utf8_in_the_config_is_a_problem_with_a_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pssync.yaml"
    path.write_bytes(b"database_url: sqlite:///x.db\nreporting_currency: \xe9UR\n")
    code, report = _check(path)
    assert code == 1
    assert report["problems"] == [
        {
            "key": "line 2",
            "problem": "not UTF-8 (byte 0xe9); save it as UTF-8",
            "source": str(path),
            "fatal": True,
        }
    ]
    plain = runner.invoke(app, ["config", "check", str(path)])
    assert plain.exit_code == 1 and "Traceback" not in plain.output


def test_an_environment_variables_error_is_blamed_on_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, {"erp": _erp()})
    monkeypatch.setenv("PSSYNC__CONNECTORS__ERP__ROLE", "warehouse")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "invalid configuration in the environment" in message
    assert "connectors.erp.role" in message and "PSSYNC__CONNECTORS__ERP__ROLE" in message
    code, report = _check(path)
    assert code == 1
    assert _by_key(report)["connectors.erp.role"]["source"] == "PSSYNC__CONNECTORS__ERP__ROLE"
    # A variable holding a mapping that is not JSON names the variable too.
    monkeypatch.delenv("PSSYNC__CONNECTORS__ERP__ROLE")
    monkeypatch.setenv("PSSYNC__CONNECTORS", "{not json")
    code, report = _check(path)
    assert code == 1 and report["problems"][0]["source"] == "PSSYNC__CONNECTORS"


def test_a_mix_of_file_and_environment_problems_names_each_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, {"erp": _erp()}, reporting_currency="dollars")
    monkeypatch.setenv("PSSYNC__CONNECTORS__ERP__ROLE", "warehouse")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert f"in {path} and the environment" in str(info.value)
    sources = dict(zip([k for k, _ in info.value.problems], info.value.sources, strict=True))
    assert sources == {
        "reporting_currency": str(path),
        "connectors.erp.role": "PSSYNC__CONNECTORS__ERP__ROLE",
    }


def test_settings_only_the_environment_gives_are_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(
        tmp_path,
        {"erp": _erp(options={"pagesize": 10})},
        schedules={"nightly": {"job": "poll", "cron": "0 2 * * *", "connector": "crm"}},
    )
    monkeypatch.setenv("PSSYNC_API_TOKEN_TTL_SECONDS", "5")
    monkeypatch.setenv("PSSYNC_AUDIT_KEY", "too-short")
    monkeypatch.setenv("PSSYNC_SALESFORCE_ALLOWED_IPS", "not-a-network")
    code, report = _check(path)
    problems = _by_key(report)
    assert code == 1
    assert problems["PSSYNC_API_TOKEN_TTL_SECONDS"]["source"] == "PSSYNC_API_TOKEN_TTL_SECONDS"
    assert "at least 32" in problems["PSSYNC_AUDIT_KEY"]["problem"]
    assert problems["webhooks"]["source"] == "PSSYNC_SALESFORCE_ALLOWED_IPS"
    assert "no connector named 'crm'" in problems["schedules.nightly.connector"]["problem"]
    warnings = {w["key"]: w for w in report["warnings"]}
    assert "not a sap_s4 setting" in warnings["connectors.erp.options.pagesize"]["problem"]


def test_a_credential_the_connector_does_not_read_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kantata reads its token from options.token; an api_token (what the starter file used to
    suggest) was dropped without a word and sync then failed for want of a token."""
    monkeypatch.setenv("PSSYNC__CONNECTORS__PSA__API_TOKEN", "a-token")
    psa = {"type": "kantata", "role": "psa", "base_url": "https://k.example"}
    code, report = _check(_config(tmp_path, {"psa": psa}))
    assert code == 1 and "connectors.psa.options.token" in _by_key(report)
    warning = {w["key"]: w for w in report["warnings"]}["connectors.psa.api_token"]
    assert "not read by the kantata connector" in warning["problem"]
    assert warning["source"] == "PSSYNC__CONNECTORS__PSA__API_TOKEN"
