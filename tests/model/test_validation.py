"""Validation errors name the entity, the record and the field; schemas export per entity."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pssync.model import ENTITY_TYPES, CanonicalValidationError, Money, parse_record
from pssync.model.registry import export_json_schemas


def test_error_names_entity_record_and_field() -> None:
    with pytest.raises(CanonicalValidationError) as info:
        parse_record(
            "Invoice",
            {
                "id": "inv-7",
                "account_id": "a",
                "number": "1",
                "issue_date": "2026-13-01",
                "amount": {"amount": "1", "currency": "usd"},
            },
        )
    err = info.value
    assert err.entity_type == "Invoice" and err.record_id == "inv-7"
    fields = {field for field, _ in err.problems}
    assert fields == {"issue_date", "amount.currency"}
    assert str(err).startswith("Invoice 'inv-7': ")


def test_naive_datetime_is_rejected() -> None:
    payload = {
        "id": "o",
        "account_id": "a",
        "name": "n",
        "stage": "s",
        "probability": "1",
        "amount": {"amount": "1", "currency": "USD"},
        "close_date": "2026-01-01",
        "created_at": "2026-01-01T10:00:00",
    }
    with pytest.raises(CanonicalValidationError, match="created_at"):
        parse_record("Opportunity", payload)
    payload["created_at"] = "2026-01-01T10:00:00+02:00"
    assert parse_record("Opportunity", payload).created_at.utcoffset() == dt.timedelta(hours=2)  # type: ignore[attr-defined]


def test_money_needs_a_currency_and_a_finite_amount() -> None:
    with pytest.raises(ValueError):
        Money.model_validate({"amount": "10"})
    with pytest.raises(ValueError):
        Money.model_validate({"amount": "NaN", "currency": "USD"})


def test_assignment_end_before_start_is_refused() -> None:
    with pytest.raises(CanonicalValidationError, match="before start"):
        parse_record(
            "Assignment",
            {
                "id": "asg",
                "project_id": "p",
                "resource_id": "r",
                "start_date": "2026-05-01",
                "end_date": "2026-04-01",
                "hours": "8",
            },
        )


def test_every_entity_has_schema_version_and_exports_a_schema(tmp_path: Path) -> None:
    written = export_json_schemas(tmp_path)
    assert len(written) == len(ENTITY_TYPES)
    for path in written:
        schema = json.loads(path.read_text())
        assert "schema_version" in schema["properties"], path.name
        assert schema["$id"].endswith(".v1.json")
