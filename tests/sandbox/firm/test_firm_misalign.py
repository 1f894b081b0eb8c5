"""Every kind of planted misalignment is present in `small`, and the answer key is right."""

from __future__ import annotations

import datetime as dt

import pytest

from pssync.sandbox.firm import Firm, generate_firm
from pssync.sandbox.firm.misalign import KINDS
from pssync.sandbox.firm.reference import SERVICE_LINES, TAX_CODES


def _of(firm: Firm, kind: str) -> list[object]:
    return [m for m in firm.misalignments if m.kind == kind]


def test_every_kind_is_planted(firm: Firm) -> None:
    kinds = {m.kind for m in firm.misalignments}
    assert kinds == set(KINDS)


def test_answer_key_points_at_real_records(firm: Firm) -> None:
    ids = {"Id", "id", "BusinessPartner", "customer_no"}
    for m in firm.misalignments:
        records = firm.views[m.system][m.object]
        assert any(m.record_id in (r.get(k) for k in ids) for r in records), m


def test_free_text_categories_are_not_service_line_codes(firm: Firm) -> None:
    codes = {code for code, _ in SERVICE_LINES}
    rows = {r["Id"]: r for r in firm.views["salesforce"]["Opportunity"]}
    for m in firm.misalignments:
        if m.kind == "free_text_service_category":
            assert rows[m.record_id]["Service_Category__c"] not in codes


def test_accounts_without_legal_entity_and_with_invalid_tax(firm: Firm) -> None:
    rows = {r["Id"]: r for r in firm.views["salesforce"]["Account"]}
    for m in firm.misalignments:
        if m.kind == "missing_legal_entity":
            assert rows[m.record_id]["Legal_Entity__c"] is None
        if m.kind == "invalid_tax_code":
            assert rows[m.record_id]["Tax_Code__c"] not in TAX_CODES
    flagged = {
        m.record_id
        for m in firm.misalignments
        if m.kind in ("missing_legal_entity", "invalid_tax_code")
    }
    clean = [r for r in rows.values() if r["Id"] not in flagged and r["Legal_Entity__c"]]
    assert all(r["Tax_Code__c"] in TAX_CODES for r in clean)


def test_stale_deals_are_open_with_close_date_long_past(firm: Firm) -> None:
    rows = {r["Id"]: r for r in firm.views["salesforce"]["Opportunity"]}
    stale = [m for m in firm.misalignments if m.kind == "stale_stage"]
    assert stale
    for m in stale:
        row = rows[m.record_id]
        assert row["IsClosed"] is False
        assert dt.date.fromisoformat(row["CloseDate"]) < firm.today - dt.timedelta(days=60)


def test_psa_dates_differ_from_crm_where_flagged(firm: Firm) -> None:
    workspaces = {r["id"]: r for r in firm.views["kantata"]["workspaces"]}
    by_psa = {
        r["PSA_Project_Id__c"]: r
        for r in firm.views["salesforce"]["Opportunity"]
        if r["PSA_Project_Id__c"]
    }
    flagged = {m.record_id for m in firm.misalignments if m.kind == "psa_crm_date_mismatch"}
    assert flagged
    for ws_id, ws in workspaces.items():
        crm = by_psa[ws_id]
        assert (ws["start_date"] != crm["Delivery_Start__c"]) == (ws_id in flagged)


def test_won_deals_without_erp_project(firm: Firm) -> None:
    flagged = {m.record_id for m in firm.misalignments if m.kind == "won_without_erp_project"}
    assert flagged
    erp_refs = {r["externalId"] for r in firm.views["netsuite"]["job"]}
    erp_refs |= {r["crm_ref"] for r in firm.views["filedrop"]["projects"]}
    sap_projects = {r["Project"] for r in firm.views["sap_s4"]["A_EnterpriseProject"]}
    for row in firm.views["salesforce"]["Opportunity"]:
        if row["Id"] in flagged:
            assert row["IsWon"] and row["ERP_Project_Id__c"] is None
            assert row["Id"] not in erp_refs
            project = firm.projects[firm.opportunity(_canonical(firm, row["Id"])).project or 0]
            assert project.code not in sap_projects


def _canonical(firm: Firm, sf_id: str) -> str:
    return next(o.id for o in firm.opps if firm.xrefs.get(o.id, "salesforce:Opportunity") == sf_id)


def test_duplicate_pairs_are_the_same_customer_under_another_name(firm: Firm) -> None:
    assert len(firm.duplicate_pairs) >= 4
    systems = {p.system for p in firm.duplicate_pairs}
    assert {"salesforce", "netsuite"} <= systems
    name_field = {
        "Account": "Name",
        "customer": "companyName",
        "A_BusinessPartner": "BusinessPartnerFullName",
        "customers": "name",
    }
    id_field = {
        "Account": "Id",
        "customer": "id",
        "A_BusinessPartner": "BusinessPartner",
        "customers": "customer_no",
    }
    for pair in firm.duplicate_pairs:
        rows = {r[id_field[pair.object]]: r for r in firm.views[pair.system][pair.object]}
        a, b = rows[pair.record_id_a], rows[pair.record_id_b]
        assert a[name_field[pair.object]] != b[name_field[pair.object]]
        assert pair.record_id_a != pair.record_id_b
        assert any(acc.id == pair.account_id for acc in firm.accounts)
    dup_ids = {p.record_id_b for p in firm.duplicate_pairs}
    assert dup_ids == {m.record_id for m in firm.misalignments if m.kind == "duplicate_customer"}


@pytest.mark.parametrize("seed", [2, 17])
def test_every_kind_is_planted_for_other_seeds(seed: int) -> None:
    other = generate_firm("small", seed=seed)
    assert {m.kind for m in other.misalignments} == set(KINDS)
