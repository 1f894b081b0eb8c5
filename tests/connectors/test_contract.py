"""The connector contract's shared parts: error classification and the registry."""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from pathlib import Path

import pytest

from pssync.connectors import registry
from pssync.connectors.errors import (
    AuthError,
    PermanentError,
    RetriableError,
    classify_http,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (429, RetriableError),
        (500, RetriableError),
        (503, RetriableError),
        (408, RetriableError),
        (401, AuthError),
        (403, AuthError),
        (400, PermanentError),
        (404, PermanentError),
    ],
)
def test_default_http_classification(status: int, cls: type) -> None:
    err = classify_http(
        status, system="x", message="boom", vendor_code="E1", record_id="r1", field="f"
    )
    assert type(err) is cls
    assert (err.vendor_code, err.record_id, err.field, err.status) == ("E1", "r1", "f", status)
    assert "record r1" in str(err) and "field f" in str(err)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None
    err = classify_http(429, system="x", message="slow down", retry_after="3")
    assert isinstance(err, RetriableError) and err.retry_after == 3.0


def test_third_party_connector_found_by_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "acme_connector.py"
    pkg.write_text(
        textwrap.dedent("""
        from pssync.connectors.base import Connector
        class AcmeConnector(Connector):
            name = "acme"
            def snapshot(self, obj): return iter(())
            def changes(self, obj, cursor): return iter(())
            def deletes(self, obj, cursor): return [], cursor
            def upsert(self, obj, external_id_field, records): return []
            def describe(self, obj): raise NotImplementedError
    """)
    )
    dist = tmp_path / "acme_connector-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-connector\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[pssync.connectors]\nacme = acme_connector:AcmeConnector\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "acme" in registry.available()
    assert registry.connector_class("acme").__name__ == "AcmeConnector"
    sys.modules.pop("acme_connector", None)


def test_unknown_connector_lists_available() -> None:
    with pytest.raises(registry.UnknownConnectorError, match="no connector 'nope'"):
        registry.connector_class("nope")


@pytest.mark.parametrize("name", ["filedrop", "kantata", "netsuite", "salesforce", "sap_s4"])
def test_a_connector_refuses_another_connectors_settings(name: str) -> None:
    from pssync.connectors.base import ConnectorSettings

    cls = registry.connector_class(name)
    with pytest.raises(TypeError, match=f"{cls.__name__} needs {cls.settings_model.__name__}"):
        cls(ConnectorSettings(base_url="https://example.invalid"))
