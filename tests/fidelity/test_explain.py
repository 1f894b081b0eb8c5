"""Differences explained by open exceptions of the right category, and the rest named."""

from __future__ import annotations

from fidelity_helpers import account, contact, exception, golden, truth

from pssync.fidelity.records import compare_records

SF_ACC = ("salesforce", "Account", "001A")
SF_CON = ("salesforce", "Contact", "003A")


def _truth() -> dict:  # type: ignore[type-arg]
    return {
        ("Account", "acc-1"): truth(
            "Account", account("acc-1", "A", tax_code_id="tax-us-ex"), SF_ACC
        ),
        ("Contact", "con-1"): truth("Contact", contact("con-1", "acc-1", "B"), SF_CON),
    }


def test_a_record_held_back_at_ingest_explains_its_absence_and_references_to_it() -> None:
    view = golden({("Contact", "contact-1"): (contact("contact-1", "001A", "B"), {SF_CON})})
    view.exceptions = [
        exception(
            "invalid_tax_code",
            system="salesforce",
            object="Account",
            source_id="001A",
            entity_type="Account",
            record_id="account-1",
            details={"field": "tax_code_id", "stage": "ingest"},
        )
    ]
    result = compare_records(_truth(), view)
    by_kind = {(d.kind, d.entity_type): d for d in result.differences}
    assert by_kind[("missing", "Account")].explanation.category == "invalid_tax_code"  # type: ignore[union-attr]
    via = by_kind[("field", "Contact")].explanation
    assert via is not None and via.via == "Account acc-1"
    assert result.unexplained == []


def test_an_exception_on_another_field_or_record_explains_nothing() -> None:
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
    result = compare_records(_truth(), view)
    [defect] = result.unexplained
    assert (defect.kind, defect.field, defect.truth, defect.golden) == (
        "field",
        "tax_code_id",
        "tax-us-ex",
        None,
    )
    assert "tax_code_id: truth 'tax-us-ex' vs golden None" in defect.describe()


def test_an_extra_record_flagged_as_duplicate_is_explained() -> None:
    twin = ("salesforce", "Account", "001B")
    view = golden(
        {
            ("Account", "account-1"): (
                account("account-1", "A", tax_code_id="tax-us-ex"),
                {SF_ACC},
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
    result = compare_records(_truth(), view)
    [extra] = result.differences
    assert extra.kind == "extra" and extra.explained


def test_a_reference_left_as_the_vendor_id_of_a_held_back_record_is_explained() -> None:
    """The ERP's customer reached golden, the CRM's account was refused for its tax code: the
    CRM contact still names the CRM account's own ID, and that exception explains it."""
    erp = ("netsuite", "customer", "77")
    truth_records = {
        ("Account", "acc-1"): truth(
            "Account", account("acc-1", "A", tax_code_id="tax-us-ex"), SF_ACC, erp
        ),
        ("Contact", "con-1"): truth("Contact", contact("con-1", "acc-1", "B"), SF_CON),
    }
    view = golden(
        {
            ("Account", "account-1"): (account("account-1", "A", tax_code_id="tax-us-ex"), {erp}),
            ("Contact", "contact-1"): (contact("contact-1", "001A", "B"), {SF_CON}),
        }
    )
    result = compare_records(truth_records, view)
    [unexplained] = result.unexplained  # without the exception: a dangling reference
    assert (unexplained.field, unexplained.golden) == ("account_id", "001A")
    view.exceptions = [
        exception(
            "invalid_tax_code",
            system="salesforce",
            object="Account",
            source_id="001A",
            entity_type="Account",
            details={"field": "tax_code_id", "stage": "ingest"},
        )
    ]
    [difference] = compare_records(truth_records, view).differences
    assert difference.explanation is not None
    assert difference.explanation.category == "invalid_tax_code"
    assert difference.explanation.via == "Account 001A"
    view.exceptions[0].source_id = "001B"  # about another account: explains nothing
    assert compare_records(truth_records, view).unexplained


def test_a_field_filled_from_a_held_back_deal_is_explained_only_when_left_empty() -> None:
    """A staffing request takes its region from its project's deal; the deal was refused for
    its free-text category, so golden's request has no region: the deal's exception explains
    it. A request with another region is a defect all the same."""
    sf_deal = ("salesforce", "Opportunity", "006A")
    ws = ("kantata", "workspaces", "41")
    deal = {"id": "opp-1", "account_id": "acc-1", "name": "D", "region_id": "reg-na"}
    project = {"id": "prj-1", "name": "P", "opportunity_id": "opp-1"}
    request = {"id": "rr-1", "project_id": "prj-1", "role_id": "role-pm", "region_id": "reg-na"}
    truth_records = {
        ("Opportunity", "opp-1"): truth("Opportunity", deal, sf_deal),
        ("Project", "prj-1"): truth("Project", project, ws),
        ("ResourceRequest", "rr-1"): truth("ResourceRequest", request, ("kantata", "rr", "9")),
    }
    got = {**request, "id": "resourcerequest-1", "project_id": "project-1", "region_id": None}
    view = golden(
        {
            ("Project", "project-1"): (
                {**project, "id": "project-1", "opportunity_id": None},
                {ws},
            ),
            ("ResourceRequest", "resourcerequest-1"): (got, {("kantata", "rr", "9")}),
        }
    )
    view.exceptions = [
        exception(
            "unmapped_value",
            system="salesforce",
            object="Opportunity",
            source_id="006A",
            entity_type="Opportunity",
            details={"field": "service_line_id", "stage": "ingest"},
        )
    ]
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


def test_a_deal_region_left_empty_by_an_unresolved_held_back_account_is_explained() -> None:
    erp = ("netsuite", "customer", "77")
    sf_deal = ("salesforce", "Opportunity", "006A")
    deal = {"id": "opp-1", "account_id": "acc-1", "name": "D", "region_id": "reg-na"}
    truth_records = {
        ("Account", "acc-1"): truth("Account", account("acc-1", "A"), SF_ACC, erp),
        ("Opportunity", "opp-1"): truth("Opportunity", deal, sf_deal),
    }
    got = {**deal, "id": "opportunity-1", "account_id": "001A", "region_id": None}
    view = golden(
        {
            ("Account", "account-1"): (account("account-1", "A"), {erp}),
            ("Opportunity", "opportunity-1"): (got, {sf_deal}),
        }
    )
    view.exceptions = [
        exception(
            "invalid_tax_code",
            system="salesforce",
            object="Account",
            source_id="001A",
            entity_type="Account",
            details={"field": "tax_code_id", "stage": "ingest"},
        )
    ]
    result = compare_records(truth_records, view)
    assert {d.field for d in result.differences} == {"account_id", "region_id"}
    assert result.unexplained == []
    got["region_id"] = "reg-emea"  # a region of its own is not the account's to explain
    [wrong] = compare_records(truth_records, view).unexplained
    assert (wrong.field, wrong.golden) == ("region_id", "reg-emea")
