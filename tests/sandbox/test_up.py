"""`pssync sandbox up` end to end: one JSON line, every system answering, clean SIGTERM."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pssync.sandbox.up import REGISTRY, Sandbox, SandboxError, emulator_class, unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MISSING = unavailable()
RUN = "from pssync.cli.sandbox_cmds import sandbox_app; sandbox_app()"


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        return ""
    return process.stdout.readline()


def _answers(info: dict[str, Any]) -> bool:
    """Any HTTP response (even 401/404) proves the server is up and speaking HTTP."""
    verify: Any = info.get("ca_file", True)
    response = httpx.get(info["base_url"] + "/", verify=verify, timeout=5)
    return response.status_code < 600


@pytest.mark.skipif(bool(MISSING), reason="; ".join(MISSING))
def test_up_prints_json_serves_every_system_and_stops_on_sigterm(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        RUN,
        "up",
        "--size",
        "small",
        "--json",
        "--state-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        started = time.monotonic()
        line = _read_line(process, timeout=10)
        assert line, "no JSON line within 10 s"
        assert time.monotonic() - started < 10
        systems = json.loads(line)
        assert set(systems) == set(REGISTRY)
        for name, info in systems.items():
            assert info["base_url"].startswith(("http://127.0.0.1:", "https://127.0.0.1:")), name
            assert _answers(info), name
        assert "ca_file" in systems["salesforce"]
        assert Path(systems["filedrop"]["credentials"]["inbound_dir"]).is_dir()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# The same CLI path with only this package's systems and an empty stand-in firm, so the JSON
# line and the SIGTERM handling are checked even while other emulators are being written.
RUN_STUBBED = (
    "import sys, types; from pssync.sandbox import up;"
    "[up.REGISTRY.pop(k) for k in list(up.REGISTRY) if k not in ('sap_s4', 'filedrop')];"
    "firm = types.SimpleNamespace(views={'filedrop': {'customers': [{'external_id': 'X',"
    " 'name': 'X', 'country': 'DE', 'currency': 'EUR'}]}});"
    "sys.modules['pssync.sandbox.firm'] = types.SimpleNamespace(generate_firm=lambda s, n: firm);"
    + RUN
)


def test_up_cli_with_this_packages_systems(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        RUN_STUBBED,
        "up",
        "--json",
        "--faults",
        "latency_ms=1",
        "--state-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _read_line(process, timeout=10)
        assert line, "no JSON line within 10 s"
        systems = json.loads(line)
        assert set(systems) == {"sap_s4", "filedrop"}
        creds = systems["sap_s4"]["credentials"]
        metadata = httpx.get(
            creds["service_url:API_BUSINESS_PARTNER"] + "$metadata",
            auth=(creds["username"], creds["password"]),
        )
        assert metadata.status_code == 200
        status = httpx.get(systems["filedrop"]["base_url"] + "/status").json()
        assert status["records"]["customers"] == 1
        faults = httpx.get(systems["filedrop"]["base_url"] + "/__admin/faults").json()
        assert faults["latency_ms"] == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_bad_faults_spec_exits_with_usage_error() -> None:
    command = [sys.executable, "-c", RUN, "up", "--faults", "nonsense=1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "unknown fault 'nonsense'" in done.stderr


def test_missing_emulator_module_is_named() -> None:
    REGISTRY["nowhere"] = ("pssync.sandbox.nowhere", "NowhereEmulator")
    try:
        with pytest.raises(SandboxError, match=r"module pssync\.sandbox\.nowhere is missing"):
            emulator_class("nowhere")
    finally:
        del REGISTRY["nowhere"]
    with pytest.raises(SandboxError, match="unknown system"):
        emulator_class("oracle")


def test_start_all_runs_the_systems_that_exist(tmp_path: Path) -> None:
    problems = unavailable(["sap_s4", "filedrop"])
    if problems:
        pytest.skip("; ".join(problems))
    with Sandbox.start_all("small", 1, None, tmp_path, systems=["sap_s4", "filedrop"]) as sandbox:
        described = sandbox.describe()
        assert set(described) == {"sap_s4", "filedrop"}
        status = httpx.get(described["filedrop"]["base_url"] + "/status", timeout=5).json()
        assert status["folders"] == described["filedrop"]["credentials"]
    assert (tmp_path / "sap_s4" / "state.sqlite").exists()


# `--empty` must never generate a firm: the stand-in generator fails the run if it is called.
RUN_EMPTY = (
    "import sys, types; from pssync.sandbox import up;"
    "[up.REGISTRY.pop(k) for k in list(up.REGISTRY) if k not in ('sap_s4', 'filedrop')];"
    "sys.modules['pssync.sandbox.firm'] = types.SimpleNamespace(generate_firm=None);" + RUN
)


def test_up_empty_starts_systems_without_records(tmp_path: Path) -> None:
    command = [sys.executable, "-c", RUN_EMPTY, "up", "--empty", "--json"]
    command += ["--state-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _read_line(process, timeout=10)
        assert line, "no JSON line within 10 s"
        systems = json.loads(line)
        creds = systems["sap_s4"]["credentials"]
        partners = httpx.get(
            creds["service_url:API_BUSINESS_PARTNER"] + "A_BusinessPartner?$format=json",
            auth=(creds["username"], creds["password"]),
        )
        assert partners.status_code == 200
        assert partners.json()["d"]["results"] == []
        status = httpx.get(systems["filedrop"]["base_url"] + "/status").json()
        assert not any(status["records"].values()), status
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_start_all_empty_has_no_firm_to_advance() -> None:
    with Sandbox.start_all(systems=["filedrop"], empty=True) as sandbox:
        assert sandbox.firm is None
        with pytest.raises(SandboxError, match="not started from a synthetic firm"):
            sandbox.advance(1)
