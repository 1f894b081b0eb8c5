"""The trust chain on the product path, small firm: sandbox -> connectors -> engine -> golden
store (`pssync demo`), then `pssync fidelity --against` on what it synced.

It asserts what holds today and the check's own contract (every difference is either tied to
an open exception, counted apart as recorded by no source system, or named with entity, IDs,
field and both values): 0 unexplained differences and precision and recall >= 0.95 are
asserted; the forecast within 1% and the KPIs wait on other work and are reported, not
asserted: see docs/fidelity.md for the current numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CLI = [sys.executable, "-c", "from pssync.cli.main import app; app()"]
REFERENCE = ("Currency", "FxRate", "Region", "LegalEntity", "TaxCode", "ServiceLine", "Role")


def pssync(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    cwd = tmp_path_factory.mktemp("fidelity")
    # One business day a step, as a worker polling daily sees the firm (bench_fidelity's own
    # setting); the CLI's default ten-day step polls the firm once per ten days.
    args = ("--clock-steps", "2", "--days-per-step", "1")
    demo = pssync(cwd, "demo", "--no-serve", "--json", *args)
    assert demo.returncode == 0, demo.stderr[-3000:]
    summary = json.loads(demo.stdout)
    check = pssync(cwd, "fidelity", "--against", "pssync-truth.jsonl", "--json")
    assert check.returncode == 0, check.stderr[-3000:]
    return cwd, summary, json.loads(check.stdout)


def test_the_demo_summary_carries_the_check_and_the_cli_repeats_it(synced) -> None:  # type: ignore[no-untyped-def]
    cwd, summary, report = synced
    fidelity = summary["fidelity"]
    assert (cwd / "pssync-truth.jsonl").exists() and (cwd / "pssync-planted.jsonl").exists()
    assert fidelity["headline"].startswith("golden store vs firm: ")
    assert fidelity["records"]["differences"] == report["records"]["differences"]
    assert fidelity["planted"]["recall"] == report["planted"]["recall"]
    assert "golden store vs firm" in (cwd / "pssync-report.html").read_text(encoding="utf-8")


def test_every_difference_is_explained_or_named(synced) -> None:  # type: ignore[no-untyped-def]
    _, _, report = synced
    records = report["records"]
    assert records["differences"] == (
        records["explained"] + records["not_recorded"] + records["unexplained"]
    )
    assert sum(report["unexplained_by_kind"].values()) == records["unexplained"]
    for d in report["unexplained_examples"]:
        assert d["explained_by"] is None and d["entity_type"] and d["kind"]
        assert d["truth_id"] or d["golden_id"]
        if d["kind"] == "field":
            assert d["field"] and d["truth"] != d["golden"]


def test_what_holds_today(synced) -> None:  # type: ignore[no-untyped-def]
    _, _, report = synced
    by_type = report["records"]["by_type"]
    for name in (*REFERENCE, "Resource"):  # configuration and the HR master arrive whole
        assert by_type[name]["identical"] == by_type[name]["truth"] > 0, name
    for name in ("Account", "Contact", "Opportunity", "Project", "Invoice", "TimeEntry"):
        assert by_type[name]["matched"] > 0, name  # the xref map ties vendor IDs to golden
    # Every deal held back at ingest is explained by its exception (free-text categories).
    assert by_type["Opportunity"]["missing"] > 0
    assert report["explained_by_category"]["unmapped_value"] >= by_type["Opportunity"]["missing"]
    planted = report["planted"]
    for kind in (
        "free_text_service_category",
        "invalid_tax_code",
        "missing_legal_entity",
        "duplicate_customer",
    ):
        counts = planted["by_kind"][kind]
        assert counts["detected"] == counts["planted"] > 0, kind
    assert 0 < planted["recall"] <= 1 and 0 < planted["precision"] <= 1
    for name, row in report["kpis"].items():
        assert row["truth"] is not None, name  # the truth side of every KPI is defined
    assert report["forecast"]["total"]["truth"] != "0.00"
    # The weighted pipeline's gap is the deals held back for their free-text category, to the
    # cent: what the open exceptions hold back, not a loss of pssync's own.
    pipeline = report["forecast"]["weighted_pipeline"]
    assert float(pipeline["held_back"]) > 0
    assert float(pipeline["synced"]) + float(pipeline["held_back"]) == pytest.approx(
        float(pipeline["truth"]), abs=0.01
    )
    assert pipeline["unexplained"] == "0.00"
    # A PSA start fed back to its deal (resource feedback) absorbs the planted date mismatch.
    assert planted["by_kind"]["psa_crm_date_mismatch"]["detected"] > 0


def test_won_deals_are_handed_off_or_say_why_not(synced) -> None:  # type: ignore[no-untyped-def]
    """Flows on the product path: a won deal ends with a coded ERP project (linked to the one
    the firm had, or handed off) or with an open exception on it saying why not."""
    from pssync.governance.exceptions import ExceptionStore
    from pssync.store import GoldenStore, open_engine

    cwd, summary, report = synced
    flows = summary["flows"]
    assert flows["won_deals"] > 0
    assert flows["won_deals_with_erp_project"] >= 0.9 * flows["won_deals"]
    store = GoldenStore(open_engine(f"sqlite:///{cwd / 'pssync.db'}"))
    coded = {
        v.payload.get("opportunity_id")
        for v in store.iter_records("Project")
        if v.payload.get("project_code")
    }
    won = {v.record_id for v in store.iter_records("Opportunity") if v.payload.get("is_won")}
    explained = {
        e.record_id
        for e in ExceptionStore(store.engine).find(states=["open", "assigned"])
        if e.details.get("stage") == "handoff"
    }
    assert won - coded <= explained, won - coded - explained
    assert report["kpis"]["conversion_time"]["synced"] is not None
    assert report["kpis"]["start_variance"]["synced"] is not None


def test_the_links_the_firm_keeps_make_one_golden_record(synced) -> None:  # type: ignore[no-untyped-def]
    """Mapping gaps the check named are closed on the product path: a time entry's role
    (Kantata ``include=role``), a deal's owner by name, the deal a workspace was opened for,
    one golden project for the PSA workspace and the ERP project of a deal (SAP's through the
    deal its sales order was created from; a held-back deal's too), one golden invoice for the
    PSA invoice and the ERP invoice raised from it, an account's billing address, the file
    drop's journal postings."""
    from pssync.store import GoldenStore, open_engine

    cwd, _, report = synced
    unexplained = report["unexplained_by_kind"]
    for gap in (
        "TimeEntry field role_id",
        "Opportunity field owner",
        "Assignment field role_id",
        "Project field opportunity_id",
        # the ERP side: SAP projects join their deal's workspace (the sales order's external
        # document), the file drop exports its journal, ERP contracts and postings carry the
        # deal and revenue method of their project, even while the deal is held back
        "Project extra",
        "WbsElement extra",
        "Invoice extra",
        "TimeEntry field wbs_element_id",
        "Invoice field project_id",
        "Invoice field due_date",
        "RevenueEvent missing",
        "CostActual missing",
        "RevenueEvent field revenue_method",
        "ContractLine field opportunity_id",
        "ContractLine missing",
    ):
        assert gap not in unexplained, (gap, unexplained.get(gap))
    by_type = report["records"]["by_type"]
    time = by_type["TimeEntry"]
    assert time["identical"] >= 0.9 * time["truth"], time
    store = GoldenStore(open_engine(f"sqlite:///{cwd / 'pssync.db'}"))
    systems = [
        {key.partition(":")[0] for key in v.payload.get("xrefs", {})}
        for v in store.iter_records("Project")
    ]
    # Every ERP project of a deal the firm ran in Kantata joined that deal's workspace.
    joined = [s for s in systems if "kantata" in s and s & {"netsuite", "filedrop"}]
    assert len(joined) >= 10, systems
    assert sum(1 for s in systems if {"kantata", "sap_s4"} <= s) >= 5, systems
    workspaces = [
        v.payload
        for v in store.iter_records("Project")
        if "kantata:workspaces" in v.payload["xrefs"]
    ]
    assert sum(1 for p in workspaces if p.get("opportunity_id")) >= len(workspaces) // 2
    # NetSuite invoices name the Kantata invoice they were raised from: never a second record.
    for v in store.iter_records("Invoice"):
        held = {key.partition(":")[0] for key in v.payload.get("xrefs", {})}
        if "netsuite" in held:
            assert "kantata" in held, v.payload
    assert by_type["Invoice"]["extra"] < by_type["Invoice"]["truth"]
    assert unexplained.get("Account field billing_address", 0) <= 2


def test_what_the_firm_keeps_is_carried_and_what_no_system_records_is_apart(synced) -> None:  # type: ignore[no-untyped-def]
    """The groups issue 13 named, closed on the product path: WBS codes (a Kantata Story and a
    NetSuite project task custom field), a project's department, template, baseline hours and
    actual start (Kantata workspace custom fields); regions and customers a record takes from
    a held deal or account are explained by its exception along the chain. What no system of
    the firm records (a CRM prospect's ERP-only facts, a text SAP caps, a NetSuite milestone's
    invoice) is counted apart, with
    why, never as a defect; the exceptions hold no false alarm."""
    _, _, report = synced
    unexplained = report["unexplained_by_kind"]
    for gap in (
        "WbsElement field code",
        "Project field baseline_hours",
        "Project field department_id",
        "Project field template_id",
        "Project field actual_start",
        "Project field account_id",
        "Project field region_id",
        "ResourceRequest field region_id",
        "RevenueEvent field region_id",
        "Account field legal_name",
        "Account field payment_terms",
        "Account field status",
    ):
        assert gap not in unexplained, (gap, unexplained.get(gap))
    apart = report["not_recorded_by_any_source"]
    assert set(apart) <= {
        "Account field legal_name",
        "Account field payment_terms",
        "Account field status",
        "ContractLine field name",
        "BillingMilestone field invoice_id",
        "Project field project_code",
        "ContractLine field billing_rule",
    }, apart
    assert apart["Account field legal_name"]["count"] > 0
    assert "ERP" in apart["Account field payment_terms"]["why"]
    records = report["records"]
    assert records["not_recorded"] == sum(row["count"] for row in apart.values())
    assert records["unexplained"] == 0, unexplained
    planted = report["planted"]
    assert planted["precision"] >= 0.95 and planted["recall"] >= 0.95, planted
