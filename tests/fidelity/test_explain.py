"""Differences explained by open exceptions of the right category, and the rest named."""

from __future__ import annotations

from typing import Any

import pytest
from fidelity_helpers import account, contact, exception, golden, truth

from pssync.fidelity.records import compare_records
from pssync.fidelity.truth import TruthRecord
from pssync.governance.exceptions import ExceptionRecord

SF_ACC = ("salesforce", "Account", "001A")
SF_CON = ("salesforce", "Contact", "003A")
SF_DEAL = ("salesforce", "Opportunity", "006A")
ERP_CUSTOMER = ("netsuite", "customer", "77")
WORKSPACE = ("kantata", "workspaces", "41")
Truth = dict[tuple[str, str], TruthRecord]


@pytest.fixture
def firm() -> Truth:
    """An account (CRM and ERP) with a contact and a deal, the deal's project and staffing."""
    deal = {"id": "opp-1", "account_id": "acc-1", "name": "D", "region_id": "reg-na"}
    project = {"id": "prj-1", "name": "P", "account_id": "acc-1", "opportunity_id": "opp-1"}
    request = {"id": "rr-1", "project_id": "prj-1", "role_id": "role-pm", "region_id": "reg-na"}
    records = [
        truth("Account", account("acc-1", "A", tax_code_id="tax-us-ex"), SF_ACC, ERP_CUSTOMER),
        truth("Contact", contact("con-1", "acc-1", "B"), SF_CON),
        truth("Opportunity", deal, SF_DEAL),
        truth("Project", {**project, "region_id": "reg-na"}, WORKSPACE),
        truth("ResourceRequest", request, ("kantata", "rr", "9")),
    ]
    return {(r.entity_type, r.record_id): r for r in records}


def _only(firm: Truth, *types: str) -> Truth:
    return {k: v for k, v in firm.items() if k[0] in types}


@pytest.fixture
def held_account() -> ExceptionRecord:
    """The CRM account refused at ingest for its tax code."""
    return exception(
        "invalid_tax_code",
        system="salesforce",
        object="Account",
        source_id="001A",
        entity_type="Account",
        details={"field": "tax_code_id", "stage": "ingest"},
    )


@pytest.fixture
def held_deal() -> ExceptionRecord:
    """The CRM deal refused at ingest for its free-text service category."""
    return exception(
        "unmapped_value",
        system="salesforce",
        object="Opportunity",
        source_id="006A",
        entity_type="Opportunity",
        details={"field": "service_line_id", "stage": "ingest"},
    )


def _golden_as(firm: Truth, key: tuple[str, str], new_id: str, **changes: Any) -> dict[str, Any]:
    return {**firm[key].payload, "id": new_id, **changes}


def test_a_record_held_back_at_ingest_explains_its_absence_and_references_to_it(
    firm: Truth, held_account: ExceptionRecord
) -> None:
    view = golden({("Contact", "contact-1"): (contact("contact-1", "001A", "B"), {SF_CON})})
    view.exceptions = [held_account]
    result = compare_records(_only(firm, "Account", "Contact"), view)
    by_kind = {(d.kind, d.entity_type): d for d in result.differences}
    assert by_kind[("missing", "Account")].explanation.category == "invalid_tax_code"  # type: ignore[union-attr]
    via = by_kind[("field", "Contact")].explanation
    assert via is not None and via.via == "Account acc-1"
    assert result.unexplained == []


def test_an_exception_on_another_field_or_record_explains_nothing(firm: Truth) -> None:
    view = golden(
        {
            ("Account", "account-1"): (account("account-1", "A", tax_code_id=None), {SF_ACC}),
            ("Contact", "contact-1"): (contact("contact-1", "account-1", "B"), {SF_CON}),
        }
    )
    view.exceptions = [
        exception(
            "stale_stage", entity_type="Account", record_id="account-1", details={"field": "stage"}
        ),
        exception(
            "invalid_tax_code",
            id="other",
            entity_type="Account",
            record_id="account-9",
            details={"field": "tax_code_id"},
        ),
    ]
    result = compare_records(_only(firm, "Account", "Contact"), view)
    [defect] = result.unexplained
    assert (defect.kind, defect.field, defect.truth, defect.golden) == (
        "field",
        "tax_code_id",
        "tax-us-ex",
        None,
    )
    assert "tax_code_id: truth 'tax-us-ex' vs golden None" in defect.describe()


def test_an_extra_record_flagged_as_duplicate_is_explained(firm: Truth) -> None:
    twin = ("salesforce", "Account", "001B")
    view = golden(
        {
            ("Account", "account-1"): (
                account("account-1", "A", tax_code_id="tax-us-ex"),
                {SF_ACC, ERP_CUSTOMER},
            ),
            ("Account", "account-2"): (account("account-2", "A Inc."), {twin}),
            ("Contact", "contact-1"): (contact("contact-1", "account-1", "B"), {SF_CON}),
        }
    )
    view.exceptions = [
        exception(
            "duplicate_customer",
            entity_type="Account",
            record_id="account-2",
            details={"candidates": [{"record_id": "account-1"}], "field": "name"},
        )
    ]
    result = compare_records(_only(firm, "Account", "Contact"), view)
    [extra] = result.differences
    assert extra.kind == "extra" and extra.explained


def test_a_reference_left_as_the_vendor_id_of_a_held_back_record_is_explained(
    firm: Truth, held_account: ExceptionRecord
) -> None:
    """The ERP's customer reached golden, the CRM's account was refused for its tax code: the
    CRM contact still names the CRM account's own ID, and that exception explains it."""
    truth_records = _only(firm, "Account", "Contact")
    view = golden(
        {
            ("Account", "account-1"): (
                account("account-1", "A", tax_code_id="tax-us-ex"),
                {ERP_CUSTOMER},
            ),
            ("Contact", "contact-1"): (contact("contact-1", "001A", "B"), {SF_CON}),
        }
    )
    result = compare_records(truth_records, view)
    [unexplained] = result.unexplained  # without the exception: a dangling reference
    assert (unexplained.field, unexplained.golden) == ("account_id", "001A")
    view.exceptions = [held_account]
    [difference] = compare_records(truth_records, view).differences
    assert difference.explanation is not None
    assert difference.explanation.category == "invalid_tax_code"
    assert difference.explanation.via == "Account 001A"
    held_account.source_id = "001B"  # about another account: explains nothing
    assert compare_records(truth_records, view).unexplained


def test_a_field_filled_from_a_held_back_deal_is_explained_only_when_left_empty(
    firm: Truth, held_deal: ExceptionRecord
) -> None:
    """A staffing request takes its region from its project's deal; the deal was refused for
    its free-text category, so golden's request has no region: the deal's exception explains
    it. A request with another region is a defect all the same."""
    truth_records = _only(firm, "Opportunity", "Project", "ResourceRequest")
    rr = ("ResourceRequest", "rr-1")
    got = _golden_as(firm, rr, "resourcerequest-1", project_id="project-1", region_id=None)
    project = _golden_as(
        firm, ("Project", "prj-1"), "project-1", opportunity_id=None, region_id=None
    )
    view = golden(
        {
            ("Project", "project-1"): (project, {WORKSPACE}),
            ("ResourceRequest", "resourcerequest-1"): (got, {("kantata", "rr", "9")}),
        }
    )
    view.exceptions = [held_deal]
    result = compare_records(truth_records, view)
    assert result.unexplained == []
    region = next(d for d in result.differences if d.field == "region_id")
    assert region.explanation is not None and region.explanation.via == "Opportunity opp-1"
    got["region_id"] = "reg-emea"
    [wrong] = compare_records(truth_records, view).unexplained
    assert (wrong.entity_type, wrong.field, wrong.golden) == (
        "ResourceRequest",
        "region_id",
        "reg-emea",
    )


def _deal_of_a_held_account(firm: Truth) -> dict[tuple[str, str], Any]:
    """Golden with the ERP customer, and the deal still naming the refused CRM account."""
    deal = _golden_as(
        firm, ("Opportunity", "opp-1"), "opportunity-1", account_id="001A", region_id=None
    )
    return {
        ("Account", "account-1"): (account("account-1", "A"), {ERP_CUSTOMER}),
        ("Opportunity", "opportunity-1"): (deal, {SF_DEAL}),
    }


def test_a_deal_region_left_empty_by_an_unresolved_held_back_account_is_explained(
    firm: Truth, held_account: ExceptionRecord
) -> None:
    truth_records = _only(firm, "Account", "Opportunity")
    records = _deal_of_a_held_account(firm)
    records[("Account", "account-1")][0]["tax_code_id"] = "tax-us-ex"
    view = golden(records)
    view.exceptions = [held_account]
    result = compare_records(truth_records, view)
    assert {d.field for d in result.differences} == {"account_id", "region_id"}
    assert result.unexplained == []
    records[("Opportunity", "opportunity-1")][0]["region_id"] = "reg-emea"
    [wrong] = compare_records(truth_records, view).unexplained  # its own region: not explained
    assert (wrong.field, wrong.golden) == ("region_id", "reg-emea")


def test_a_region_left_empty_along_a_chain_of_derived_fields_is_explained(
    firm: Truth, held_account: ExceptionRecord
) -> None:
    """A project takes its region from its deal, which takes it from its account: the account
    refused, the deal's region is empty for that reason and so are the project's and its
    staffing request's, each explained by the account's exception through the record before."""
    records = _deal_of_a_held_account(firm)
    records[("Account", "account-1")][0]["tax_code_id"] = "tax-us-ex"
    project = _golden_as(
        firm, ("Project", "prj-1"), "project-1", opportunity_id="opportunity-1", region_id=None
    )
    rr = ("ResourceRequest", "rr-1")
    request = _golden_as(firm, rr, "resourcerequest-1", project_id="project-1", region_id=None)
    records[("Project", "project-1")] = ({**project, "account_id": "account-1"}, {WORKSPACE})
    records[("ResourceRequest", "resourcerequest-1")] = (request, {("kantata", "rr", "9")})
    view = golden(records)
    view.exceptions = [held_account]
    truth_records = _only(firm, "Account", "Opportunity", "Project", "ResourceRequest")
    result = compare_records(truth_records, view)
    regions = {d.entity_type: d for d in result.differences if d.field == "region_id"}
    assert set(regions) == {"Opportunity", "Project", "ResourceRequest"}
    assert result.unexplained == [] and not result.not_recorded
    assert regions["Project"].explanation.via == "Opportunity opp-1"  # type: ignore[union-attr]
    assert regions["ResourceRequest"].explanation.via == "Project prj-1"  # type: ignore[union-attr]
    assert {d.explanation.category for d in regions.values()} == {"invalid_tax_code"}  # type: ignore[union-attr]
    request["region_id"] = "reg-emea"
    [wrong] = compare_records(truth_records, view).unexplained
    assert (wrong.entity_type, wrong.field) == ("ResourceRequest", "region_id")


def test_what_no_system_records_is_counted_apart_not_as_a_defect() -> None:
    """A CRM prospect no ERP holds: the truth has a legal name, terms and an active status no
    system records (the ERP keeps them); golden has none, and says prospect as the CRM does.
    Counted as not recorded by any source system, with why. Once an ERP holds the customer,
    the same gaps are pssync's defects."""
    full = account("acc-1", "A", legal_name="A GmbH", payment_terms="Net 30", status="active")
    truth_records = {("Account", "acc-1"): truth("Account", full, SF_ACC)}
    prospect = account("account-1", "A", status="prospect")
    view = golden({("Account", "account-1"): (prospect, {SF_ACC})})
    result = compare_records(truth_records, view)
    assert result.unexplained == []
    assert {d.field: bool(d.not_recorded) for d in result.differences} == {
        "legal_name": True,
        "payment_terms": True,
        "status": True,
    }
    assert "ERP" in (result.not_recorded[0].not_recorded or "")
    assert result.by_type["Account"].not_recorded == 3
    prospect["status"] = "blocked"  # a status the CRM does not say: a defect
    assert [d.field for d in compare_records(truth_records, view).unexplained] == ["status"]
    view = golden({("Account", "account-1"): (prospect, {SF_ACC, ERP_CUSTOMER})})
    assert len(compare_records(truth_records, view).unexplained) == 3  # the ERP holds it


def test_a_customer_named_by_the_psas_own_id_is_explained_by_the_held_deal(
    firm: Truth, held_deal: ExceptionRecord
) -> None:
    """A Kantata workspace names its customer by its workspace group, which pssync fills from
    the deal: with the deal held, golden's project still names the group's ID, explained by
    the deal's exception. Naming another golden account is a defect all the same."""
    truth_records = _only(firm, "Account", "Opportunity", "Project")
    project = _golden_as(
        firm, ("Project", "prj-1"), "project-1", opportunity_id=None, account_id="2100005"
    )
    records = {
        ("Account", "account-1"): (
            account("account-1", "A", tax_code_id="tax-us-ex"),
            {SF_ACC, ERP_CUSTOMER},
        ),
        ("Account", "account-2"): (account("account-2", "B"), set()),
        ("Project", "project-1"): (project, {WORKSPACE}),
    }
    view = golden(records)
    view.exceptions = [held_deal]
    result = compare_records(truth_records, view)
    customer = next(d for d in result.differences if d.field == "account_id")
    assert customer.explanation is not None and customer.explanation.via == "Opportunity opp-1"
    project["account_id"] = "account-2"
    assert "account_id" in {d.field for d in compare_records(truth_records, view).unexplained}


def test_a_text_the_only_vendor_caps_is_counted_apart() -> None:
    """SAP's sales order item text holds 40 characters: a longer contract name is recorded cut
    and whole by no system. Cut otherwise, or held by a system that does not cap it, it is a
    defect."""
    name = "Foxhollow Capital ERP Implementation 2025 (fixed fee)"
    sap = ("sap_s4", "A_SalesOrder", "17")
    line = {"id": "cl-1", "project_id": "prj-1", "name": name}
    truth_records = {("ContractLine", "cl-1"): truth("ContractLine", line, sap)}
    got = {**line, "id": "contractline-1", "name": name[:40]}
    view = golden({("ContractLine", "contractline-1"): (got, {sap})})
    [cut] = compare_records(truth_records, view).differences
    assert cut.not_recorded and "40 characters" in cut.not_recorded
    got["name"] = name[:30]
    assert compare_records(truth_records, view).unexplained
    got["name"] = name[:40]
    view = golden({("ContractLine", "contractline-1"): (got, {sap, ("netsuite", "so", "9")})})
    assert compare_records(truth_records, view).unexplained


def test_fields_of_a_vendor_record_held_back_while_the_rest_landed_are_explained(
    firm: Truth, held_account: ExceptionRecord
) -> None:
    """The CRM account was refused for its tax code, its ERP customer synced: golden lacks the
    CRM's industry and holds the ERP's name (the CRM owns the name), explained by the refusal.
    A field the ERP owns and gave another value is not the CRM's to explain."""
    acc = ("Account", "acc-1")
    firm[acc].payload.update(industry="Tech", payment_terms="Net 30")
    got = account("account-1", "A LLC", tax_code_id="tax-us-ex", payment_terms="Net 30")
    view = golden({("Account", "account-1"): (got, {ERP_CUSTOMER})})
    view.exceptions = [held_account]
    result = compare_records(_only(firm, "Account"), view)
    assert {d.field for d in result.differences} == {"name", "industry"}
    assert result.unexplained == []
    assert {d.explanation.via for d in result.differences} == {"salesforce Account 001A"}  # type: ignore[union-attr]
    got["payment_terms"] = "Net 60"
    [wrong] = compare_records(_only(firm, "Account"), view).unexplained
    assert wrong.field == "payment_terms"


def test_a_project_drafted_for_a_stale_deal_is_explained_by_its_stale_stage(
    firm: Truth,
) -> None:
    """The CRM still shows the deal in Proposal long past its close date: pssync's flow
    drafted a project for it, which the firm never did. The draft and its WBS elements are
    explained by the deal's open stale_stage exception; without it they are defects."""
    truth_records = _only(firm, "Opportunity")
    deal = _golden_as(firm, ("Opportunity", "opp-1"), "opportunity-1")
    draft = {"id": "prj-x", "name": "P", "account_id": "acc-1", "opportunity_id": "opportunity-1"}
    task = {"id": "prj-x-pm", "project_id": "prj-x", "code": "1", "name": "PM"}
    records = {
        ("Opportunity", "opportunity-1"): (deal, {SF_DEAL}),
        ("Project", "prj-x"): (draft, set()),
        ("WbsElement", "prj-x-pm"): (task, set()),
    }
    view = golden(records)
    assert len(compare_records(truth_records, view).unexplained) == 2
    view.exceptions = [exception("stale_stage", system="salesforce", source_id="006A")]
    result = compare_records(truth_records, view)
    assert result.unexplained == []
    vias = {d.entity_type: d.explanation.via for d in result.differences}  # type: ignore[union-attr]
    assert vias == {"Project": "Opportunity opportunity-1", "WbsElement": "Project prj-x"}


def test_a_link_the_only_vendor_has_no_place_for_is_counted_apart() -> None:
    """NetSuite links an invoice to the sales order, not to the milestone line it bills: a
    NetSuite milestone's invoice is recorded by no system. Held by a system that has the link
    too (SAP's billing plan item names its billing document), it is a defect."""
    ns = ("netsuite", "projecttask_milestone", "70055")
    milestone = {"id": "ms-1", "contract_line_id": "cl-1", "name": "Go-live", "invoice_id": "i-1"}
    truth_records = {("BillingMilestone", "ms-1"): truth("BillingMilestone", milestone, ns)}
    got = {**milestone, "id": "billingmilestone-1", "invoice_id": None}
    view = golden({("BillingMilestone", "billingmilestone-1"): (got, {ns})})
    [link] = compare_records(truth_records, view).differences
    assert link.field == "invoice_id" and link.not_recorded and "sales order" in link.not_recorded
    sap = ("sap_s4", "A_BillingPlanItem", "9")
    view = golden({("BillingMilestone", "billingmilestone-1"): (got, {ns, sap})})
    assert compare_records(truth_records, view).unexplained


def test_what_pssyncs_handoff_wrote_for_a_project_no_erp_held_is_counted_apart(
    firm: Truth,
) -> None:
    """The firm never opened the won deal's project in an ERP; pssync's handoff did, from the
    deal. Its code and its contract's terms are recorded by no system in the truth's form:
    counted apart. A field the ERP does not own (the PSA's dates) stays a defect, and so does
    the code of a project the firm's ERP did hold."""
    project_key = ("Project", "prj-1")
    line = {
        "id": "cl-1",
        "project_id": "prj-1",
        "revenue_method": "fixed_fee",
        "name": "P (fixed fee)",
        "billing_rule": "x",
    }
    truth_records = {
        project_key: firm[project_key],
        ("ContractLine", "cl-1"): truth("ContractLine", line),
    }
    handed = ("filedrop", "projects", "PRJ-1")
    project = _golden_as(firm, project_key, "project-1", project_code="PRJ-1", opportunity_id=None)
    got = {**line, "id": "cl-9", "project_id": "project-1", "name": "P", "billing_rule": "y"}
    view = golden(
        {
            ("Project", "project-1"): (project, {WORKSPACE, handed}),
            ("ContractLine", "cl-9"): (got, {("filedrop", "contracts", "K1")}),
        }
    )
    result = compare_records(truth_records, view)
    apart = {(d.entity_type, d.field) for d in result.differences if d.not_recorded}
    assert apart == {
        ("Project", "project_code"),
        ("ContractLine", "name"),
        ("ContractLine", "billing_rule"),
    }
    assert {(d.entity_type, d.field) for d in result.unexplained} == {("Project", "opportunity_id")}
    firm[project_key].sources.add(("netsuite", "job", "5"))  # the firm's ERP held it
    assert len(compare_records(truth_records, view).unexplained) == 4
