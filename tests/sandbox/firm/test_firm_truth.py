"""Every truth line is a canonical fact the store accepts, dated when it became true."""

from __future__ import annotations

import collections
import datetime as dt
import json

import pytest

from pssync.model import parse_record
from pssync.sandbox.firm import Firm
from pssync.store.jsonl import parse_line


@pytest.fixture(scope="module")
def lines(firm: Firm) -> list[dict[str, object]]:
    return [json.loads(line) for line in firm.truth_lines()]


def test_every_line_parses_and_validates(firm: Firm) -> None:
    count = 0
    for text in firm.truth_lines():
        change = parse_line(text, "test")
        obj = json.loads(text)
        assert set(obj) == {"entity_type", "valid_from", "system", "source_record", "payload"}
        parse_record(obj["entity_type"], obj["payload"])
        assert change.valid_from.tzinfo is not None
        count += 1
    assert count > 5_000


def test_all_entity_types_are_present(lines: list[dict[str, object]]) -> None:
    types = {line["entity_type"] for line in lines}
    expected = {
        "Region",
        "ServiceLine",
        "Role",
        "LegalEntity",
        "Currency",
        "FxRate",
        "TaxCode",
        "Department",
        "ProjectTemplate",
        "Account",
        "Contact",
        "Opportunity",
        "Project",
        "WbsElement",
        "ResourceRequest",
        "Resource",
        "Assignment",
        "ContractLine",
        "BillingMilestone",
        "BillingSchedule",
        "Invoice",
        "Payment",
        "TimeEntry",
        "CostActual",
        "RevenueEvent",
    }
    assert expected <= types


def test_history_is_before_today_and_in_valid_time_order(
    firm: Firm, lines: list[dict[str, object]]
) -> None:
    times = [dt.datetime.fromisoformat(str(line["valid_from"])) for line in lines]
    assert times == sorted(times)
    assert max(times) < dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def test_each_stage_change_is_its_own_fact(firm: Firm, lines: list[dict[str, object]]) -> None:
    stages: dict[str, list[str]] = collections.defaultdict(list)
    for line in lines:
        if line["entity_type"] == "Opportunity":
            payload = line["payload"]
            assert isinstance(payload, dict)
            stages[payload["id"]].append(payload["stage"])
    won = next(o for o in firm.opps if o.outcome().is_won and o.id.startswith("opp-0"))
    assert stages[won.id] == [
        "Prospecting",
        "Qualification",
        "Solution Design",
        "Proposal",
        "Negotiation",
        "Closed Won",
    ]
    sf = {r["Id"]: r for r in firm.views["salesforce"]["OpportunityHistory"]}
    assert sum(len(v) for v in stages.values()) == len(sf)


def test_invoice_valid_from_is_its_issue_date(lines: list[dict[str, object]]) -> None:
    first_seen: dict[str, str] = {}
    for line in lines:
        if line["entity_type"] == "Invoice":
            payload = line["payload"]
            assert isinstance(payload, dict)
            first_seen.setdefault(payload["id"], str(line["valid_from"]))
            if payload["status"] == "open":
                assert str(line["valid_from"]).startswith(payload["issue_date"])
    assert first_seen


def test_xrefs_carry_the_view_ids(firm: Firm, lines: list[dict[str, object]]) -> None:
    sf_ids = {r["Id"] for r in firm.views["salesforce"]["Opportunity"]}
    ws_ids = {r["id"] for r in firm.views["kantata"]["workspaces"]}
    for line in lines:
        payload = line["payload"]
        assert isinstance(payload, dict)
        if line["entity_type"] == "Opportunity":
            assert payload["xrefs"]["salesforce:Opportunity"] in sf_ids
            assert str(line["source_record"]).startswith("salesforce:Opportunity:006")
        if line["entity_type"] == "Project":
            assert payload["xrefs"]["kantata:workspaces"] in ws_ids


def test_canonical_ids_are_stable_strings(lines: list[dict[str, object]]) -> None:
    ids = {line["payload"]["id"] for line in lines if line["entity_type"] == "Account"}  # type: ignore[index]
    assert "acc-00001" in ids
    assert all(str(i).startswith("acc-") for i in ids)
