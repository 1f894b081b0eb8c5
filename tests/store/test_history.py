"""Bitemporal history, provenance and xref, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from pydantic import ValidationError

from pssync.governance.exceptions import ExceptionStore, NewException
from pssync.model import Account, CanonicalRecord, Money, Opportunity
from pssync.samples import sample_lines
from pssync.store import Change, GoldenStore, open_engine
from pssync.store.audit import verify_chain
from pssync.store.history import Fact, set_fields
from pssync.store.jsonl import export_lines, parse_line
from pssync.store.tables import audit_log


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def opp(stage: str = "Prospecting", amount: str = "1000.00", **extra: object) -> Opportunity:
    return Opportunity.model_validate(
        {
            "id": "opp-1",
            "account_id": "acc-1",
            "name": "Transformation",
            "stage": stage,
            "probability": "70",
            "amount": {"amount": amount, "currency": "USD"},
            "close_date": "2026-06-30",
            **extra,
        }
    )


def test_field_changed_twice_reads_back_its_value_between(store: GoldenStore, clock) -> None:
    t1, t2 = utc(2026, 2, 1), utc(2026, 3, 1)
    clock.set(t1)
    store.write([Change(opp("Qualification"), t1, "salesforce", "006A")])
    clock.set(t2)
    store.write([Change(opp("Negotiation/Review"), t2, "salesforce", "006A")])

    between = utc(2026, 2, 15)
    assert store.get("Opportunity", "opp-1", valid_at=between).payload["stage"] == "Qualification"
    assert store.get("Opportunity", "opp-1", known_at=between).payload["stage"] == "Qualification"
    assert store.get("Opportunity", "opp-1").payload["stage"] == "Negotiation/Review"
    assert store.get("Opportunity", "opp-1", valid_at=utc(2026, 1, 1)) is None


def test_provenance_names_system_source_and_transaction(store: GoldenStore, clock) -> None:
    first = store.write([Change(opp(), utc(2026, 1, 1), "salesforce", "006A")])
    second = store.write(
        [Change(opp(delivery_start="2026-08-03"), utc(2026, 1, 5), "kantata", "ws-9")]
    )
    stage = store.provenance("Opportunity", "opp-1", "stage")
    start = store.provenance("Opportunity", "opp-1", "delivery_start")
    assert stage is not None and start is not None
    assert (stage["system"], stage["source_record"]) == ("salesforce", "006A")
    assert stage["transaction_id"] == first.transaction_id
    assert (start["system"], start["source_record"]) == ("kantata", "ws-9")
    assert start["transaction_id"] == second.transaction_id


def test_late_fact_fills_history_without_overwriting_newer(store: GoldenStore, clock) -> None:
    clock.set(utc(2026, 4, 1))
    store.write([Change(opp("Closed Won"), utc(2026, 4, 1), "salesforce")])
    clock.set(utc(2026, 4, 2))
    # Stage history learnt afterwards: valid in February, recorded in April.
    store.write([Change(opp("Proposal/Price Quote"), utc(2026, 2, 1), "salesforce")])

    assert store.get("Opportunity", "opp-1").payload["stage"] == "Closed Won"
    feb = store.get("Opportunity", "opp-1", valid_at=utc(2026, 2, 10))
    assert feb is not None and feb.payload["stage"] == "Proposal/Price Quote"
    assert feb.valid_to == utc(2026, 4, 1)
    # As known on April 1st, February was not yet part of the history.
    assert (
        store.get("Opportunity", "opp-1", valid_at=utc(2026, 2, 10), known_at=utc(2026, 4, 1, 12))
        is None
    )


def test_fact_inside_a_version_splits_it(store: GoldenStore, clock) -> None:
    store.write([Change(opp("A"), utc(2026, 1, 1), "crm")])
    clock.set(utc(2026, 1, 2))
    store.write([Change(opp("C"), utc(2026, 3, 1), "crm")])
    clock.set(utc(2026, 1, 3))
    store.write([Change(opp("B"), utc(2026, 2, 1), "crm")])
    stages = [
        store.get("Opportunity", "opp-1", valid_at=utc(2026, m, 15)).payload["stage"]  # type: ignore[union-attr]
        for m in (1, 2, 3)
    ]
    assert stages == ["A", "B", "C"]
    before_b = store.get(
        "Opportunity", "opp-1", valid_at=utc(2026, 2, 15), known_at=utc(2026, 1, 2, 12)
    )
    assert before_b is not None and before_b.payload["stage"] == "A"


def test_entity_set_as_known_at(store: GoldenStore, clock) -> None:
    store.write([Change(opp(), utc(2026, 1, 1), "crm")])
    clock.set(utc(2026, 2, 1))
    other = opp().model_copy(update={"id": "opp-2"})
    store.write([Change(other, utc(2026, 2, 1), "crm")])
    ids_jan = [v.record_id for v in store.iter_records("Opportunity", known_at=utc(2026, 1, 15))]
    ids_now = [v.record_id for v in store.iter_records("Opportunity")]
    assert ids_jan == ["opp-1"]
    assert ids_now == ["opp-1", "opp-2"]


def test_unchanged_content_writes_nothing(store: GoldenStore) -> None:
    store.write([Change(opp(), utc(2026, 1, 1), "crm")])
    before = store.table_counts()
    result = store.write([Change(opp(), utc(2026, 1, 1), "crm")])
    assert result.unchanged == 1 and result.created == result.updated == 0
    assert store.table_counts() == before


def test_decimal_amount_is_exact(store: GoldenStore) -> None:
    store.write([Change(opp(amount="1234567.89"), utc(2026, 1, 1), "crm")])
    payload = store.get("Opportunity", "opp-1").payload  # type: ignore[union-attr]
    assert Money.model_validate(payload["amount"]).amount == Decimal("1234567.89")


def test_xref_maps_canonical_id_to_each_system(store: GoldenStore) -> None:
    record = opp(xrefs={"salesforce:Opportunity": "006A", "kantata:Workspace": "41"})
    store.write([Change(record, utc(2026, 1, 1), "crm")])
    assert store.xrefs("Opportunity", "opp-1") == {
        "salesforce:Opportunity": "006A",
        "kantata:Workspace": "41",
    }
    assert store.resolve_xref("kantata", "Workspace", "41") == ("Opportunity", "opp-1")


def test_delete_keeps_history(store: GoldenStore, clock) -> None:
    store.write([Change(opp(), utc(2026, 1, 1), "crm")])
    clock.set(utc(2026, 2, 1))
    assert store.delete("Opportunity", "opp-1", utc(2026, 2, 1), system="crm")
    assert store.get("Opportunity", "opp-1") is None
    assert store.get("Opportunity", "opp-1", valid_at=utc(2026, 1, 15)) is not None
    assert store.counts() == {}


def _variants(record: CanonicalRecord) -> list[CanonicalRecord]:
    """`record`, and the same record with every field that accepts it set to null or ``[]``."""
    out = [record]
    data = json.loads(record.model_dump_json())
    for name in data:
        empties: tuple[object, ...] = (None, [])
        for empty in empties:
            try:
                out.append(type(record).model_validate({**data, name: empty}))
            except ValidationError:
                continue
    return out


def test_set_fields_are_the_dumps_non_empty_keys() -> None:
    """The provenance of a new record is read off the model instead of a re-parse of its dump;
    both must name the same fields, in the same order, for every entity type in the samples."""
    seen: set[str] = set()
    left_out: set[str] = set()
    for line in sample_lines():
        change = parse_line(line, "import")
        seen.add(change.record.entity_type)
        for record in _variants(change.record):
            dumped = json.loads(record.model_dump_json())
            expected = tuple(k for k, v in dumped.items() if v is not None and v != [])
            assert set_fields(record) == expected
            assert Fact.of(Change(record, change.valid_from, "x")).fields == expected
            left_out.update(k for k, v in dumped.items() if v is None or v == [])
    assert len(seen) >= 15
    # Both kinds of empty value were met, list fields included.
    assert {"line_items", "holidays", "domain"} <= left_out


def test_write_facts_matches_write(store: GoldenStore, tmp_path: Path) -> None:
    """The import's entry point stores what `write` stores for the same changes."""
    changes = [parse_line(line, "import") for line in sample_lines()]
    other = GoldenStore(open_engine(f"sqlite:///{tmp_path}/other.db"), clock=store.clock)
    store.write(changes, actor="import")
    other.write_facts([Fact.of(c) for c in changes], actor="import")
    assert list(export_lines(store, history=True)) == list(export_lines(other, history=True))
    for entity_type, record_id in {(c.record.entity_type, c.record.id) for c in changes}:
        mine, theirs = store.get(entity_type, record_id), other.get(entity_type, record_id)
        assert mine is not None and theirs is not None
        assert list(mine.provenance) == list(theirs.provenance)
    assert store.table_counts() == other.table_counts()
    assert verify_chain(other.engine).ok
    other.engine.dispose()


def test_a_long_workflow_correlation_id_is_stored_whole(store: GoldenStore) -> None:
    """Issue 14 defect 10: audit_log.correlation_id was VARCHAR(64); a page workflow ID of the
    shipped Kantata mapping is 67 characters and crashed workers on PostgreSQL."""
    page_id = "page:kantata:workspace_allocations:" + "0123456789abcdef" * 2
    assert len(page_id) == 67
    record = Account(id="acc-long-correlation", name="Long Correlation Ltd")
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    store.write([Change(record, moment, "kantata")], correlation_id=page_id)
    repoint = "repoint:Account:" + "x" * 200
    store.write(
        [Change(Account(id="acc-long-2", name="Repointed"), moment, "crm")], correlation_id=repoint
    )
    with store.engine.connect() as conn:
        stored = set(conn.execute(sa.select(audit_log.c.correlation_id)).scalars())
    assert {page_id, repoint} <= stored
    exceptions = ExceptionStore(store.engine)
    raised = exceptions.raise_(NewException("drift", "long id", correlation_id=page_id))
    assert exceptions.get(raised.id).correlation_id == page_id  # type: ignore[union-attr]
