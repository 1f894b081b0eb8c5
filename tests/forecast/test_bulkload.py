"""Bulk-loaded truth: recorded at valid time, so "known at T" needs no trust flag."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from forecast_fixtures import usd

from pssync.forecast.analytics import AnalyticsStore
from pssync.forecast.bulkload import load_truth
from pssync.forecast.snapshot import load_snapshot
from pssync.model import CanonicalValidationError, ContractLine, RevenueEvent, RevenueMethod


def _line(model: object, valid_from: str) -> str:
    record = model.model_dump(mode="json")  # type: ignore[attr-defined]
    entity = type(model).__name__
    return json.dumps({"entity_type": entity, "valid_from": valid_from, "payload": record})


def _truth() -> list[str]:
    cl = ContractLine(
        id="cl",
        account_id="acc",
        name="T&M",
        revenue_method=RevenueMethod.TIME_AND_MATERIALS,
        amount=usd("1000"),
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    bigger = cl.model_copy(update={"amount": usd("5000")})
    events = [
        RevenueEvent(id=f"rev-{m}", recognized_date=dt.date(2026, m, 28), amount=usd(100))
        for m in (1, 2, 3)
    ]
    return [
        _line(cl, "2026-01-01T09:00:00+00:00"),
        _line(cl, "2026-01-15T09:00:00+00:00"),  # unchanged: collapses into the first
        _line(bigger, "2026-03-01T09:00:00+00:00"),
        *(_line(e, f"{e.recognized_date}T21:00:00+00:00") for e in events),
    ]


def test_versions_are_chained_and_recorded_when_valid() -> None:
    analytics = AnalyticsStore()
    assert load_truth(analytics, _truth()) == 5
    rows = analytics.con.execute(
        "SELECT valid_from, valid_to, recorded_from FROM record_versions "
        "WHERE record_id = 'cl' ORDER BY valid_from"
    ).fetchall()
    assert [r[0] == r[2] for r in rows] == [True, True]
    assert rows[0][1] == rows[1][0] and rows[1][1] is None
    assert analytics.high_water_mark == dt.datetime(2026, 3, 28, 21, tzinfo=dt.UTC)


def test_as_of_t_sees_only_facts_valid_and_recorded_by_t() -> None:
    analytics = AnalyticsStore()
    load_truth(analytics, _truth())
    feb = load_snapshot(analytics, dt.date(2026, 2, 28))  # known_at defaults to T
    assert feb.contract_lines["cl"].amount.amount == Decimal("1000.00")
    assert sum(r.amount for r in feb.actuals) == Decimal("200.00")
    march = load_snapshot(analytics, dt.date(2026, 3, 31))
    assert march.contract_lines["cl"].amount.amount == Decimal("5000.00")
    assert march.input_digest != feb.input_digest


def test_snapshot_records_equal_a_python_parse_and_a_bad_payload_reads_as_invalid() -> None:
    analytics = AnalyticsStore()
    load_truth(analytics, _truth())
    snap = load_snapshot(analytics, dt.date(2026, 3, 31))
    (text,) = analytics.payload_texts("ContractLine")
    assert snap.contract_lines["cl"] == ContractLine.model_validate(json.loads(text))
    # a payload no import would have let through: validated from JSON, it fails the same way
    analytics.con.execute(
        "UPDATE record_versions SET payload = replace(CAST(payload AS VARCHAR), "
        "'\"USD\"', '\"usd\"') WHERE record_id = 'cl'"
    )
    analytics.mark_loaded("test", analytics.high_water_mark)  # rebuild the typed tables
    with pytest.raises(CanonicalValidationError, match="ContractLine"):
        load_snapshot(analytics, dt.date(2026, 3, 31))
