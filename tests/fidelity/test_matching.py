"""Matching truth records to golden records: by vendor IDs, by equal IDs, by natural keys."""

from __future__ import annotations

from typing import Any

from fidelity_helpers import account, contact, golden, truth
from hypothesis import given, settings
from hypothesis import strategies as st

from pssync.fidelity.matching import match
from pssync.fidelity.records import compare_records


def _firm(names: list[str]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """A truth of accounts each with one contact, and its faithful golden copy under other
    IDs (the golden store mints its own), linked only by the Salesforce IDs."""
    t, g = {}, {}
    for i, name in enumerate(names):
        sf_acc, sf_con = (
            ("salesforce", "Account", f"001{i:05d}"),
            ("salesforce", "Contact", f"003{i:05d}"),
        )
        t[("Account", f"acc-{i}")] = truth("Account", account(f"acc-{i}", name), sf_acc)
        t[("Contact", f"con-{i}")] = truth("Contact", contact(f"con-{i}", f"acc-{i}", name), sf_con)
        g[("Account", f"account-{i:x}")] = (account(f"account-{i:x}", name), {sf_acc})
        g[("Contact", f"contact-{i:x}")] = (
            contact(f"contact-{i:x}", f"account-{i:x}", name),
            {sf_con},
        )
    return t, g


names = st.lists(st.text("abcdefgh", min_size=1, max_size=6), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(names)
def test_a_faithful_copy_under_other_ids_is_all_identical(given_names: list[str]) -> None:
    t, g = _firm(given_names)
    result = compare_records(t, golden(g))
    assert result.differences == []
    assert result.totals().identical == len(t)
    assert result.matching.how == {key: "xref" for key in t}


@settings(max_examples=40, deadline=None)
@given(names, st.data())
def test_a_lost_record_is_missing_and_its_references_differ(
    given_names: list[str], data: st.DataObject
) -> None:
    t, g = _firm(given_names)
    lost = data.draw(st.integers(0, len(given_names) - 1))
    del g[("Account", f"account-{lost:x}")]
    g[("Contact", f"contact-{lost:x}")][0]["account_id"] = f"001{lost:05d}"  # left dangling
    result = compare_records(t, golden(g))
    kinds = sorted((d.kind, d.entity_type, d.truth_id, d.field) for d in result.differences)
    assert kinds == [
        ("field", "Contact", f"con-{lost}", "account_id"),
        ("missing", "Account", f"acc-{lost}", None),
    ]
    assert all(not d.explained for d in result.differences)


@settings(max_examples=30, deadline=None)
@given(names, st.data())
def test_a_second_golden_record_for_one_truth_record_is_a_split(
    given_names: list[str], data: st.DataObject
) -> None:
    t, g = _firm(given_names)
    i = data.draw(st.integers(0, len(given_names) - 1))
    t[("Account", f"acc-{i}")].sources.add(("netsuite", "customer", f"{3000 + i}"))
    g[("Account", "account-erp")] = (
        account("account-erp", given_names[i]),
        {("netsuite", "customer", f"{3000 + i}")},
    )
    result = compare_records(t, golden(g))
    assert [(d.kind, d.golden_id) for d in result.differences] == [("extra", "account-erp")]
    assert result.matching.split_of == {("Account", "account-erp"): ("Account", f"acc-{i}")}


def test_records_without_vendor_ids_match_by_natural_key_over_matched_references() -> None:
    line = {
        "id": "cl-1",
        "account_id": "acc-1",
        "project_id": "prj-1",
        "name": "X (fixed fee)",
        "revenue_method": "fixed_fee",
        "amount": {"amount": "1000.00", "currency": "USD"},
        "start_date": "2026-01-01",
        "end_date": "2026-06-30",
    }
    project = {"id": "prj-1", "name": "X", "account_id": "acc-1", "currency": "USD"}
    t = {
        ("Account", "acc-1"): truth(
            "Account", account("acc-1", "A"), ("salesforce", "Account", "001")
        ),
        ("Project", "prj-1"): truth("Project", project, ("netsuite", "job", "15001")),
        ("ContractLine", "cl-1"): truth("ContractLine", line),
    }
    g = golden(
        {
            ("Account", "account-a"): (
                account("account-a", "A"),
                {("salesforce", "Account", "001")},
            ),
            ("Project", "project-p"): (
                {**project, "id": "project-p", "account_id": "account-a"},
                {("netsuite", "job", "15001")},
            ),
            ("ContractLine", "contractline-c"): (
                {
                    **line,
                    "id": "contractline-c",
                    "account_id": "account-a",
                    "project_id": "project-p",
                    "amount": {"amount": "1000", "currency": "USD"},
                },
                set(),
            ),
        }
    )
    m = match(t, g.records, g.by_source)
    assert m.ids[("ContractLine", "cl-1")] == "contractline-c"
    assert m.how[("ContractLine", "cl-1")] == "natural_key"
    assert compare_records(t, g).differences == []  # 1000.00 and 1000 are one amount


def test_vendor_ids_match_across_object_names_of_one_system() -> None:
    """NetSuite journal entries are read as two objects (revenue, cost); truth names one."""
    t = {
        ("Account", "acc-1"): truth(
            "Account", account("acc-1", "A"), ("netsuite", "journalentry", "9")
        )
    }
    g = golden(
        {
            ("Account", "account-a"): (
                account("account-a", "A"),
                {("netsuite", "journalentry_revenue", "9")},
            )
        }
    )
    assert match(t, g.records, g.by_source).ids == {("Account", "acc-1"): "account-a"}
