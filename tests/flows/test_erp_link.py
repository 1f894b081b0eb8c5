"""Linking a won deal to the ERP project the firm already has, and the look-back rule."""

from __future__ import annotations

import datetime as dt

from pssync.flows.erp_link import candidates, name_matches, pick
from pssync.flows.triggers import from_config

DEAL = {
    "id": "opp-1",
    "name": "Globex Agritech Cloud & Infrastructure 2025",
    "account_id": "acc-1",
    "legal_entity_id": "le-de01",
    "is_won": True,
    "close_date": "2025-03-01",
}


def project(**fields: object) -> dict[str, object]:
    return {
        "id": "prj-x",
        "name": "Globex Agritech Cloud & Infrastructure 2",  # cut at 40 like SAP and NetSuite
        "account_id": "acc-1",
        "legal_entity_id": "le-de01",
        "project_code": "PRJ-DE01-00026",
        **fields,
    }


def test_an_erp_name_cut_at_40_characters_still_names_the_deal() -> None:
    assert name_matches(DEAL["name"], "Globex Agritech Cloud & Infrastructure 2")
    assert name_matches(DEAL["name"], DEAL["name"].upper())
    assert not name_matches(DEAL["name"], "Globex")  # too short to identify anything
    assert not name_matches(DEAL["name"], "Globex Agritech Data & Analytics 2025")


def test_only_an_unlinked_coded_project_of_the_same_customer_and_entity_is_a_candidate() -> None:
    assert candidates(DEAL, [project()]) == [project()]
    for other in (
        project(account_id="acc-2"),
        project(legal_entity_id="le-us01"),
        project(project_code=None),
        project(opportunity_id="opp-other"),
    ):
        assert candidates(DEAL, [other]) == [], other


def test_every_won_deal_is_handed_off_but_only_recent_ones_may_create_erp_records() -> None:
    t = from_config({"closed_won_handoff": {"lookback_days": 30}})
    today = dt.date(2026, 12, 7)
    assert t.wants_handoff(DEAL, today)
    assert not t.may_create(DEAL, today)
    assert t.may_create({**DEAL, "close_date": "2026-11-20"}, today)
    assert from_config({"closed_won_handoff": {}}).may_create(DEAL, today)
    assert not t.wants_handoff({**DEAL, "is_won": False}, today)


def test_the_same_name_bought_twice_is_told_apart_by_dates() -> None:
    first = project(id="prj-1", planned_start="2025-07-14")
    second = project(id="prj-2", planned_start="2026-03-16")
    deal = {**DEAL, "requested_start": "2025-06-01"}
    assert pick({**deal, "delivery_start": "2025-07-14"}, [first, second]) == first
    assert pick(deal, [first, second]) == first  # 43 days vs 288 from the ask
    assert pick({**deal, "requested_start": "2025-11-01"}, [first, second]) is None  # too close
    assert pick(deal, [first]) == first and pick(deal, []) is None
