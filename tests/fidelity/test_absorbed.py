"""Planted problems pssync handled without an exception count as detected (absorbed): a
free-text category the crosswalk mapped right, a won deal pssync handed off."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pssync.fidelity import check_fidelity
from pssync.fidelity.truth import Planted
from pssync.store import GoldenStore
from pssync.store.jsonl import import_lines


def line(entity_type: str, payload: dict[str, Any], source: str | None = None) -> str:
    return json.dumps(
        {
            "entity_type": entity_type,
            "valid_from": "2026-03-01T09:00:00+00:00",
            "system": "salesforce",
            "source_record": source,
            "payload": payload,
        }
    )


DEAL = {
    "id": "opp-1",
    "account_id": "acc-1",
    "name": "Alpine ERP",
    "stage": "Closed Won",
    "probability": "100",
    "amount": {"amount": "1000", "currency": "USD"},
    "close_date": "2026-03-01",
    "is_closed": True,
    "is_won": True,
    "service_category": "erp impl.",
    "service_line_id": "sl-erp",
}
TRUTH = [
    line(
        "Account", {"id": "acc-1", "name": "Alpine", "currency": "USD"}, "salesforce:Account:001A"
    ),
    line("Opportunity", DEAL, "salesforce:Opportunity:006A"),
]
FREE_TEXT = Planted("free_text_service_category", "salesforce", "Opportunity", "006A")
NO_ERP = Planted("won_without_erp_project", "salesforce", "Opportunity", "006A")


def test_mapped_free_text_and_a_handed_off_deal_are_absorbed(store: GoldenStore) -> None:
    coded = {
        "id": "prj-1",
        "name": "Alpine ERP",
        "account_id": "acc-1",
        "currency": "USD",
        "opportunity_id": "opp-1",
        "project_code": "PRJ-US01-000001",
    }
    import_lines(store, [*TRUTH, line("Project", coded)], system="salesforce")
    report = check_fidelity(
        store, TRUTH, planted=[FREE_TEXT, NO_ERP], as_of=dt.date(2026, 3, 2), outcomes=False
    )
    assert report.planted is not None
    assert (report.planted.detected, report.planted.absorbed) == (2, 2)
    [extra] = report.records.differences  # pssync's project is not in the firm's truth
    assert (extra.kind, extra.golden_id) == ("extra", "prj-1")


def test_a_free_text_category_that_reached_golden_wrong_is_not_absorbed(
    store: GoldenStore,
) -> None:
    wrong = json.loads(TRUTH[1])
    wrong["payload"]["service_line_id"] = "sl-cloud"
    import_lines(store, [TRUTH[0], json.dumps(wrong)], system="salesforce")
    report = check_fidelity(
        store, TRUTH, planted=[FREE_TEXT, NO_ERP], as_of=dt.date(2026, 3, 2), outcomes=False
    )
    assert report.planted is not None and report.planted.detected == 0
    assert [d.field for d in report.records.unexplained] == ["service_line_id"]


def test_a_psa_date_fed_back_to_the_deal_is_absorbed_though_the_workspace_names_more(
    store: GoldenStore,
) -> None:
    """The Kantata workspace is the source of its project and of the staffing requests made on
    it; the planted date mismatch is about the project, whoever comes last in the truth."""
    workspace = "kantata:workspaces:41000012"
    deal = {**DEAL, "delivery_start": "2026-05-04"}
    project = {
        "id": "prj-1",
        "name": "Alpine ERP",
        "account_id": "acc-1",
        "currency": "USD",
        "opportunity_id": "opp-1",
        "planned_start": "2026-05-04",
    }
    request = {
        "id": "rr-1",
        "project_id": "prj-1",
        "role_id": "role-pm",
        "hours": "40",
        "start_date": "2026-05-04",
        "end_date": "2026-05-29",
    }
    truth = [
        TRUTH[0],
        line("Opportunity", deal, "salesforce:Opportunity:006A"),
        line("Project", project, workspace),
        line("ResourceRequest", request, workspace),
    ]
    planted = Planted("psa_crm_date_mismatch", "kantata", "workspaces", "41000012")
    import_lines(store, truth, system="salesforce")
    report = check_fidelity(
        store, truth, planted=[planted], as_of=dt.date(2026, 3, 2), outcomes=False
    )
    assert report.planted is not None
    assert (report.planted.detected, report.planted.absorbed) == (1, 1)
    stale = [*truth[:1], line("Opportunity", DEAL, "salesforce:Opportunity:006A"), *truth[2:]]
    store2 = GoldenStore(store.engine)
    import_lines(store2, stale[1:2], system="salesforce")  # the CRM's date never moved
    report = check_fidelity(
        store2, truth, planted=[planted], as_of=dt.date(2026, 3, 2), outcomes=False
    )
    assert report.planted is not None and report.planted.detected == 0
