"""Reconciliation's fast path: records found in step last time, whose source record and golden
version are unchanged, are not translated again; every real difference is still found."""

from __future__ import annotations

from typing import Any

from pssync.engine.capture import Poller
from pssync.engine.pipeline import PagePipeline
from pssync.engine.reconcile import reconcile
from pssync.engine.records import source_record
from pssync.engine.worker import wait_idle
from pssync.governance.merge import merge_records
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator
from pssync.model import parse_record
from pssync.store.history import Change, utcnow

from .conftest import BP, SAP_MAPPING, EngineEnv, bp_row


class CountingTranslator(Translator):
    """The shipped translator, counting the records it translates to canonical."""

    def __init__(self, spec: MappingSpec) -> None:
        super().__init__(spec)
        self.translated = 0

    def to_canonical(self, obj: str, record: dict[str, Any]) -> dict[str, Any]:
        self.translated += 1
        return super().to_canonical(obj, record)


def test_unchanged_records_skip_translation_and_every_difference_is_found(
    engine_env: EngineEnv,
) -> None:
    rows = [bp_row(f"Digest Co {n}") for n in range(6)]
    engine_env.crm.seed({BP: rows})
    Poller(engine_env.runtime, "crm", BP).run()
    counting = CountingTranslator(SAP_MAPPING)
    translators = engine_env.runtime.translators
    plain, translators["crm"] = translators["crm"], counting
    try:
        first = reconcile(engine_env.runtime, "crm", BP, run_id="digest-1")
        assert first.in_step == first.checked == 6 and counting.translated == 6
        counting.translated = 0
        second = reconcile(engine_env.runtime, "crm", BP, run_id="digest-2")
        assert second.in_step == 6 and counting.translated == 0  # nothing translated again

        # A changed field at the source, a record never synced, one the source no longer has,
        # and a golden version rewritten since (out of band): each is found.
        changed, rewritten = rows[0], rows[2]
        engine_env.crm_edit(
            [{"BusinessPartner": changed["BusinessPartner"], "OrganizationBPName2": "New plc"}]
        )
        missed = {**bp_row("Digest Missed"), "LastChangeDate": "2001-01-01"}
        missed["LastChangeTime"] = "PT01H00M00S"  # behind the cursor: capture never sees it
        engine_env.crm.seed({BP: [missed]})
        ghost = bp_row("Digest Ghost")
        PagePipeline(engine_env.runtime, "crm", BP).run(
            [source_record(ghost["BusinessPartner"], ghost)]
        )
        key = engine_env.store.resolve_xref("crm", BP, rewritten["BusinessPartner"])
        assert key is not None
        golden = engine_env.store.get(*key)
        assert golden is not None
        altered = parse_record("Account", {**golden.payload, "legal_name": "Edited in pssync"})
        engine_env.store.write([Change(altered, utcnow(), "pssync")])
        counting.translated = 0
        third = reconcile(engine_env.runtime, "crm", BP, run_id="digest-3")
        assert third.drift == {
            changed["BusinessPartner"]: ["legal_name"],
            rewritten["BusinessPartner"]: ["legal_name"],
        }
        assert third.missing == [missed["BusinessPartner"]]
        assert third.deleted == [ghost["BusinessPartner"]]
        assert third.in_step == 4  # the four untouched
        assert counting.translated == 3  # only the changed, the rewritten and the missed

        # Repaired, the next report finds nothing; the repaired records are compared once more
        # (their golden versions are new), then skipped.
        repaired = reconcile(engine_env.runtime, "crm", BP, repair=True, run_id="digest-4")
        assert repaired.repaired == 4
        after = reconcile(engine_env.runtime, "crm", BP, run_id="digest-5")
        assert (after.drift, after.missing, after.deleted) == ({}, [], [])
        assert after.in_step == after.checked == 7
        counting.translated = 0
        last = reconcile(engine_env.runtime, "crm", BP, run_id="digest-6")
        assert last.in_step == 7 and counting.translated == 0

        # A record merged into another is compared with the survivor, not skipped.
        away = engine_env.store.resolve_xref("crm", BP, rows[3]["BusinessPartner"])
        kept = engine_env.store.resolve_xref("crm", BP, rows[4]["BusinessPartner"])
        assert away is not None and kept is not None
        merge_records(
            engine_env.store, engine_env.exceptions, "Account", kept[1], away[1], actor="test"
        )
        merged = reconcile(engine_env.runtime, "crm", BP, run_id="digest-merged")
        assert merged.drift == {rows[3]["BusinessPartner"]: ["legal_name", "name"]}

        # A new mapping can change any verdict: everything is compared again.
        spec = SAP_MAPPING.model_dump(by_alias=True, exclude_none=True)
        spec["objects"][BP]["fields"]["legal_name"] = "OrganizationBPName1"
        remapped = CountingTranslator(MappingSpec.model_validate(spec))
        translators["crm"] = remapped
        moved = reconcile(engine_env.runtime, "crm", BP, run_id="digest-7")
        assert remapped.translated == 7 and len(moved.drift) >= 6
    finally:
        translators["crm"] = plain
    assert wait_idle(30)
