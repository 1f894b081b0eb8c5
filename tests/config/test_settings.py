"""pssync.yaml loading: env secrets, errors that name keys, secrets kept out of messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pssync.config import ConfigError, load_settings
from pssync.config.settings import default_system_of_record

STARTER = Path(__file__).parents[2] / "src/pssync/config/starter.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pssync.yaml"
    path.write_text(text)
    return path


def test_starter_file_is_valid() -> None:
    settings = load_settings(STARTER)
    assert set(settings.connectors) == {"crm", "psa", "erp"}
    assert settings.flows["opportunity_to_project"].min_probability == 50


def test_secret_comes_from_nested_env_and_never_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PSSYNC__CONNECTORS__CRM__CLIENT_SECRET", "hunter2-very-secret")
    path = _write(tmp_path, "connectors:\n  crm:\n    type: salesforce\n    role: crm\n")
    settings = load_settings(path)
    secret = settings.connectors["crm"].client_secret
    assert secret is not None and secret.get_secret_value() == "hunter2-very-secret"
    logging.getLogger("pssync.test").warning("settings: %s %r", settings, settings)
    assert "hunter2" not in caplog.text
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()


def test_secret_stays_out_of_error_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PSSYNC__CONNECTORS__CRM__CLIENT_SECRET", "hunter2-very-secret")
    path = _write(tmp_path, "connectors:\n  crm:\n    type: salesforce\n    role: warehouse\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "connectors.crm.role" in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("connectors:\n  crm:\n    role: crm\n", "connectors.crm.type", "Field required"),
        ("flows:\n  teleport: {}\n", "flows", "unknown flow"),
        ("system_of_record:\n  Opportunity:\n    stage: warehouse\n", "system_of_record", "owner"),
        (
            "system_of_record:\n  Opportunity:\n    colour: crm\n",
            "system_of_record",
            "no field 'colour'",
        ),
        ("schedules:\n  s:\n    job: poll\n    cron: every minute\n", "schedules.s.cron", "cron"),
        ("reporting_currency: dollars\n", "reporting_currency", "pattern"),
        ("surprise: 1\n", "surprise", "Extra inputs"),
        ("connectors: [1, 2\n", "line", "not valid YAML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text))
    message = str(info.value)
    assert key in message and problem in message, message


def test_default_system_of_record_matches_design() -> None:
    sor = default_system_of_record()
    assert sor["Opportunity"]["probability"] == "crm"
    assert sor["Project"]["planned_start"] == "psa"
    assert sor["Account"]["tax_id"] == "erp"
    assert sor["Invoice"]["*"] == "erp"


def test_page_processes_default_to_the_cores_the_process_may_run_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One page process per core of the CPU affinity (a container's cpuset), not per core of
    the host."""
    import os

    from pssync.config.settings import Settings

    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert Settings().page_processes == 3
    monkeypatch.delattr(os, "sched_getaffinity")
    assert Settings().page_processes == 32  # no affinity to read: every core, at most 32
