"""Reconciliation finds missed changes, drift and hard deletes; plan writes nothing; trace."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from pssync.cli.sync_cmds import trace_command
from pssync.engine.capture import Poller, serialise
from pssync.engine.pipeline import PagePipeline
from pssync.engine.plan import plan
from pssync.engine.reconcile import compare, reconcile
from pssync.engine.worker import wait_idle
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
