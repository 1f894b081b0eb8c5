"""Reconciliation finds missed changes, drift and hard deletes; plan writes nothing; trace."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from pssync.cli.sync_cmds import trace_command
from pssync.engine.capture import Poller, serialise
from pssync.engine.pipeline import PagePipeline
from pssync.engine.plan import plan
from pssync.engine.reconcile import compare, compare_page, reconcile
from pssync.engine.records import source_record
from pssync.engine.worker import wait_idle
from pssync.governance.merge import merge_records
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator

from .conftest import BP, SAP_MAPPING, EngineEnv, bp_row, connector_factory, edit, writes_made


def test_reconcile_reports_then_repairs_missed_changes_and_drift(engine_env: EngineEnv) -> None:
    synced, missed = bp_row("Recon Synced"), bp_row("Recon Missed")
    engine_env.crm.seed({BP: [synced]})
    Poller(engine_env.runtime, "crm", BP).run()
    # A change capture never sees: seeded with an old stamp behind the cursor, and a drift.
    engine_env.crm.seed(
        {BP: [{**missed, "LastChangeDate": "2001-01-01", "LastChangeTime": "PT01H00M00S"}]}
    )
    account = engine_env.store.resolve_xref("crm", BP, synced["BusinessPartner"])
    assert account is not None
    edit(
        engine_env.crm,
        [{"BusinessPartner": synced["BusinessPartner"], "OrganizationBPName2": "Drifted plc"}],
    )

    report = reconcile(engine_env.runtime, "crm", BP, run_id="r1")
    assert missed["BusinessPartner"] in report.missing
    assert report.drift.get(synced["BusinessPartner"]) == ["legal_name"]
    assert report.raised >= 2 and report.repaired == 0
    assert engine_env.exceptions.find(category="drift", system="crm")

    repaired = reconcile(engine_env.runtime, "crm", BP, repair=True, run_id="r2")
    assert repaired.repaired >= 2
    golden = engine_env.store.get("Account", account[1])
    assert golden is not None and golden.payload["legal_name"] == "Drifted plc"
    again = reconcile(engine_env.runtime, "crm", BP, run_id="r3")
    assert again.missing == [] and again.drift == {}
    assert wait_idle(30)


def test_plan_lists_writes_and_makes_none(engine_env: EngineEnv) -> None:
    assert wait_idle(30)
    assert plan(engine_env.runtime) == []  # everything delivered: nothing to write
    row = bp_row("Planned Co")
    engine_env.crm.seed({BP: [row]})
    connector = connector_factory(engine_env.crm)()
    records = [serialise(r) for p in connector.changes(BP, None) for r in p.records]
    connector.close()
    PagePipeline(engine_env.runtime, "crm", BP).run(records)  # golden only, nothing delivered
    writes_before = writes_made(engine_env.erp)
    planned = plan(engine_env.runtime)
    assert [(w.target, w.action, w.fields["OrganizationBPName1"]) for w in planned] == [
        ("erp", "create", (None, "Planned Co"))
    ]
    assert writes_made(engine_env.erp) == writes_before


def test_trace_shows_events_versions_and_audit(engine_env: EngineEnv) -> None:
    app = typer.Typer()
    app.command()(trace_command)
    row = bp_row("Traced AG")
    engine_env.crm.seed({BP: [row]})
    Poller(engine_env.runtime, "crm", BP).run()
    result = CliRunner().invoke(app, [row["BusinessPartner"], "--db", engine_env.url, "--json"])
    assert result.exit_code == 0, result.output
    assert '"events"' in result.output and "Traced AG" in result.output


def test_reconcile_takes_identity_evidence_for_no_drift(engine_env: EngineEnv) -> None:
    """A partner naming the CRM account it was made for (an `xrefs.crm:Account` rule in the
    mapping) is in step: the reference is identity, held by the xref map, not drifting content."""
    partner = {**bp_row("Recon Linked"), "BusinessPartnerIDByExtSystem": "001RECONLINKED"}
    engine_env.crm.seed({BP: [partner]})
    Poller(engine_env.runtime, "crm", BP).run()
    spec = SAP_MAPPING.model_dump(by_alias=True, exclude_none=True)
    spec["objects"][BP]["fields"]["xrefs.crm:Account"] = {
        "from": "BusinessPartnerIDByExtSystem",
        "write": False,
    }
    translators = engine_env.runtime.translators
    plain = translators["crm"]
    translators["crm"] = Translator(MappingSpec.model_validate(spec))
    try:
        record = {"id": partner["BusinessPartner"], "data": partner}
        assert compare(engine_env.runtime, "crm", BP, record) == ("in_step", [])
    finally:
        translators["crm"] = plain


def test_page_compare_agrees_with_the_per_record_compare(engine_env: EngineEnv) -> None:
    """One page holding every finding (in step, drift, missing, untranslatable by translation
    and by validation, a record merged into another) gets from the two batch reads exactly the
    verdicts the one-record compare gives; then reconcile reports and repairs a hard delete."""
    rows = [bp_row(f"Page Kind {n}") for n in range(5)]
    engine_env.crm.seed({BP: rows})
    Poller(engine_env.runtime, "crm", BP).run()
    in_step, drifted, bad_value, survivor, duplicate = rows
    merged_away = engine_env.store.resolve_xref("crm", BP, duplicate["BusinessPartner"])
    kept = engine_env.store.resolve_xref("crm", BP, survivor["BusinessPartner"])
    assert merged_away is not None and kept is not None
    merge_records(
        engine_env.store, engine_env.exceptions, "Account", kept[1], merged_away[1], actor="test"
    )
    spec = SAP_MAPPING.model_dump(by_alias=True, exclude_none=True)
    spec["objects"][BP]["fields"]["domain"] = {"from": "Website", "as": "date"}
    translators = engine_env.runtime.translators
    plain = translators["crm"]
    translators["crm"] = Translator(MappingSpec.model_validate(spec))

    def record(row: dict[str, object], **data: object) -> dict[str, object]:
        return {"id": row["BusinessPartner"], "data": {**row, **data}}

    page = [
        record(in_step),
        record(drifted, OrganizationBPName2="Drifted Page plc"),
        record(bp_row("Page Kind Missing")),
        record(bp_row("Page Kind Unreadable"), Website="not a date"),
        record(bad_value, OrganizationBPName1={"not": "a name"}),
        record(duplicate, OrganizationBPName1=survivor["OrganizationBPName1"]),
    ]
    try:
        paged = compare_page(engine_env.runtime, "crm", BP, page)
        single = [compare(engine_env.runtime, "crm", BP, r) for r in page]
    finally:
        translators["crm"] = plain
    assert paged == single
    assert [verdict for verdict, _ in paged] == [
        "in_step",
        "drift",
        "missing",
        "untranslatable",
        "untranslatable",
        "drift",  # compared with the survivor it was merged into, whose legal name differs
    ]
    assert paged[1] == ("drift", ["legal_name"]) and paged[5] == ("drift", ["legal_name"])

    # In the golden store, linked to the CRM, but not in its snapshot: a hard delete.
    gone = bp_row("Page Kind Deleted")
    PagePipeline(engine_env.runtime, "crm", BP).run([source_record(gone["BusinessPartner"], gone)])
    hidden = engine_env.store.resolve_xref("crm", BP, gone["BusinessPartner"])
    assert hidden is not None
    report = reconcile(engine_env.runtime, "crm", BP, repair=True, run_id="page-kinds")
    assert report.deleted == [gone["BusinessPartner"]]
    assert engine_env.store.get("Account", hidden[1]) is None
    assert wait_idle(30)
