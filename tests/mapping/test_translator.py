"""Mapping rules and crosswalks: both directions, unmapped values named, spec errors named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pssync.mapping import MappingFileError, MappingSpec, TranslationError, Translator, load_spec
from pssync.mapping.convert import convert

SPEC: dict[str, Any] = {
    "system": "salesforce",
    "objects": {
        "Opportunity": {
            "entity": "Opportunity",
            "fields": {
                "name": "Name",
                "stage": "StageName",
                "probability": {"from": "Probability", "as": "decimal"},
                "amount": {"money": {"amount": "Amount", "currency": "CurrencyIsoCode"}},
                "close_date": {"from": "CloseDate", "as": "date"},
                "created_at": {"from": "CreatedDate", "as": "datetime", "write": False},
                "service_line_id": {"from": "Service_Category__c", "crosswalk": "service_line"},
                "region_id": {"from": "Region__c", "crosswalk": "region", "default": "reg-na"},
                "owner": {"concat": ["$FirstName", " ", "$LastName"]},
                "address.city": "BillingCity",
                "address.country": "BillingCountry",
                "revenue_method": {
                    "when": {"field": "Type", "in": ["Fixed Fee", "FF"]},
                    "then": {"const": "fixed_fee"},
                    "else": {"const": "time_and_materials"},
                },
            },
        }
    },
    "crosswalks": {
        "service_line": {"ERP Implementation": "sl-erp", "erp impl.": "sl-erp", "Data": "sl-data"},
        "region": {"EMEA": "reg-emea", "NA": "reg-na"},
    },
}


def sf_record(**overrides: Any) -> dict[str, Any]:
    record = {
        "Id": "0061000000AbCdEAAA",
        "Name": "Transformation",
        "StageName": "Negotiation/Review",
        "Probability": 70,
        "Amount": 960000.5,
        "CurrencyIsoCode": "usd",
        "CloseDate": "2026-06-15",
        "CreatedDate": "2026-01-05T09:00:00.000+0000",
        "Service_Category__c": "ERP implementation",
        "Region__c": None,
        "FirstName": "Ana",
        "LastName": "Ruiz",
        "Type": "FF",
        "BillingCity": "Zürich",
        "BillingCountry": "CH",
    }
    record.update(overrides)
    return record


def test_vendor_to_canonical() -> None:
    payload = Translator(MappingSpec.model_validate(SPEC)).to_canonical("Opportunity", sf_record())
    assert payload == {
        "name": "Transformation",
        "stage": "Negotiation/Review",
        "probability": "70",
        "amount": {"amount": "960000.5", "currency": "USD"},
        "close_date": "2026-06-15",
        "created_at": "2026-01-05T09:00:00+00:00",
        "service_line_id": "sl-erp",
        "region_id": "reg-na",
        "owner": "Ana Ruiz",
        "revenue_method": "fixed_fee",
        "address": {"city": "Zürich", "country": "CH"},
    }


def test_unmapped_value_names_value_record_and_crosswalk() -> None:
    translator = Translator(MappingSpec.model_validate(SPEC))
    with pytest.raises(TranslationError) as info:
        translator.to_canonical(
            "Opportunity", sf_record(Service_Category__c="Cloud stuff", CloseDate="soon")
        )
    err = info.value
    assert err.record_id == "0061000000AbCdEAAA"
    kinds = {p.field: p for p in err.problems}
    assert kinds["service_line_id"].kind == "unmapped_value"
    assert kinds["service_line_id"].value == "Cloud stuff"
    assert kinds["service_line_id"].crosswalk == "service_line"
    assert "'Cloud stuff' is not in crosswalk 'service_line'" in str(err)
    assert kinds["close_date"].kind == "conversion"


def test_canonical_to_vendor_inverts_the_invertible_rules() -> None:
    translator = Translator(MappingSpec.model_validate(SPEC))
    payload = translator.to_canonical("Opportunity", sf_record())
    vendor = translator.to_vendor("Opportunity", payload)
    assert vendor == {
        "Name": "Transformation",
        "StageName": "Negotiation/Review",
        "Probability": Decimal("70"),
        "Amount": Decimal("960000.5"),
        "CurrencyIsoCode": "USD",
        "CloseDate": "2026-06-15",
        "Service_Category__c": "ERP Implementation",
        "Region__c": "NA",
        "BillingCity": "Zürich",
        "BillingCountry": "CH",
    }


def test_spec_errors_name_the_key(tmp_path: Path) -> None:
    bad = {
        **SPEC,
        "objects": {
            "Opportunity": {
                "entity": "Opportunity",
                "fields": {"x": {"from": "A", "crosswalk": "nope"}},
            }
        },
    }
    with pytest.raises(ValueError, match="crosswalk 'nope' is not defined"):
        MappingSpec.model_validate(bad)
    path = tmp_path / "m.yaml"
    path.write_text(
        "system: s\nobjects:\n  O:\n    entity: E\n    fields:\n      a: {const: 1, from: B}\n"
    )
    with pytest.raises(MappingFileError, match=r"objects\.O\.fields\.a"):
        load_spec(path)


def test_crosswalk_overrides_extend_the_file(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    spec = load_spec(path, overrides={"service_line": {"Cloud stuff": "sl-cloud"}})
    payload = Translator(spec).to_canonical(
        "Opportunity", sf_record(Service_Category__c="Cloud stuff")
    )
    assert payload["service_line_id"] == "sl-cloud"


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("/Date(1672531200000)/", "date", "2023-01-01"),
        ("/Date(1672531200000+0000)/", "datetime", "2023-01-01T00:00:00+00:00"),
        ("2026-06-01T12:00:00Z", "datetime", "2026-06-01T12:00:00+00:00"),
        (90, "minutes_to_hours", "1.50"),
        (18550, "cents", "185.5"),
        ("https://www.Acme.example:443/about", "domain", "acme.example"),
        ("yes", "bool", True),
        ("12", "int", 12),
    ],
)
def test_conversions(value: Any, kind: str, expected: Any) -> None:
    assert convert(value, kind) == expected


@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
    day=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)),
    sl=st.sampled_from(["ERP Implementation", "Data"]),
)
def test_round_trip_is_exact(amount: Decimal, day: dt.date, sl: str) -> None:
    translator = Translator(MappingSpec.model_validate(SPEC))
    record = sf_record(
        Amount=str(amount), CloseDate=day.isoformat(), Service_Category__c=sl, CurrencyIsoCode="EUR"
    )
    vendor = translator.to_vendor("Opportunity", translator.to_canonical("Opportunity", record))
    assert vendor["Amount"] == amount
    assert vendor["CloseDate"] == day.isoformat()
    assert vendor["Service_Category__c"] == sl


def test_fallback_writes_another_canonical_field_while_this_one_is_empty() -> None:
    spec = MappingSpec.model_validate(
        {
            "system": "sap",
            "objects": {
                "BP": {
                    "entity": "Account",
                    "fields": {
                        "name": {"from": "FullName", "write": False},
                        "legal_name": {"from": "Name1", "fallback": "name"},
                    },
                }
            },
        }
    )
    translator = Translator(spec)
    assert translator.to_vendor("BP", {"name": "Acme"}) == {"Name1": "Acme"}
    assert translator.to_vendor("BP", {"name": "Acme", "legal_name": "Acme Corp."}) == {
        "Name1": "Acme Corp."
    }


def test_a_spec_edited_after_first_use_is_translated_with_the_edits() -> None:
    """The translator plans each object's rules once; a crosswalk or rule added to the spec
    in place (an operator extending a crosswalk before a replay) still counts."""
    spec = MappingSpec.model_validate(SPEC)
    translator = Translator(spec)
    with pytest.raises(TranslationError):
        translator.to_canonical("Opportunity", sf_record(Service_Category__c="cloud STUFF"))
    spec.crosswalks["service_line"]["Cloud Stuff"] = "sl-cloud"
    first = translator.to_canonical("Opportunity", sf_record(Service_Category__c="cloud STUFF"))
    assert first["service_line_id"] == "sl-cloud"
    spec.objects["Opportunity"].fields = {
        **spec.objects["Opportunity"].fields,
        "address.zip": MappingSpec.model_validate(
            {"system": "x", "objects": {"o": {"entity": "E", "fields": {"z": "BillingZip"}}}}
        )
        .objects["o"]
        .fields["z"],
    }
    second = translator.to_canonical("Opportunity", sf_record(BillingZip="8001"))
    assert second["address"] == {"city": "Zürich", "country": "CH", "zip": "8001"}
