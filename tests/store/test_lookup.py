"""Batch reads answer exactly what the one-record reads answer, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from pssync.model import Account
from pssync.store import Change, GoldenStore
from pssync.store.lookup import (
    known_versions,
    latest,
    live_payloads,
    resolve_xrefs,
    version_at,
)
from pssync.store.tables import record_merge, xref


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def account(record_id: str, name: str, source_id: str) -> Account:
    return Account.model_validate(
        {"id": record_id, "name": name, "xrefs": {"salesforce:Account": source_id}}
    )


def _link(store: GoldenStore, record_id: str, obj: str, external_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(xref).values(
                entity_type="Account",
                record_id=record_id,
                system="salesforce",
                object=obj,
                external_id=external_id,
                recorded_at=utc(2026, 1, 1),
            )
        )


def _merge(store: GoldenStore, duplicate: str, survivor: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(record_merge).values(
                entity_type="Account",
                from_id=duplicate,
                to_id=survivor,
                merged_at=utc(2026, 1, 1),
                actor="test",
            )
        )


def test_versions_match_get_at_every_valid_time(store: GoldenStore, clock) -> None:
    clock.set(utc(2026, 2, 1))
    store.write([Change(account("acc-1", "First", "001A"), utc(2026, 2, 1), "salesforce")])
    clock.set(utc(2026, 3, 1))
    store.write([Change(account("acc-1", "Second", "001A"), utc(2026, 3, 1), "salesforce")])
    store.write([Change(account("acc-2", "Gone", "001B"), utc(2026, 2, 1), "salesforce")])
    clock.set(utc(2026, 4, 1))
    assert store.delete("Account", "acc-2", utc(2026, 4, 1), system="salesforce")

    keys = [("Account", "acc-1"), ("Account", "acc-2"), ("Account", "acc-9")]
    found = known_versions(store.engine, keys)
    assert ("Account", "acc-9") not in found
    for at in (None, utc(2026, 1, 1), utc(2026, 2, 15), utc(2026, 3, 15), utc(2026, 4, 2)):
        for entity_type, rid in keys:
            one = store.get(entity_type, rid, valid_at=at)
            batch = version_at(found.get((entity_type, rid)), at)
            assert (one and one.version_id) == (batch and batch.version_id), (rid, at)
            deleted = store.get(entity_type, rid, valid_at=at, include_deleted=True)
            kept = version_at(found.get((entity_type, rid)), at, include_deleted=True)
            assert (deleted and deleted.version_id) == (kept and kept.version_id), (rid, at)

    current = latest(store.engine, keys)
    assert set(current) == {("Account", "acc-1")}
    assert current[("Account", "acc-1")].payload["name"] == "Second"
    lean = live_payloads(store.engine, keys)  # the same answer, as payload JSON only
    assert lean == {k: v.payload_json for k, v in current.items()}


def test_xrefs_match_resolve_xref_merges_followed(store: GoldenStore) -> None:
    for rid, source in (("acc-1", "001A"), ("acc-2", "001B"), ("acc-3", "001C")):
        store.write([Change(account(rid, rid, source), utc(2026, 2, 1), "salesforce")])
    _merge(store, "acc-2", "acc-3")  # acc-2 -> acc-3 -> acc-1: a chain
    _merge(store, "acc-3", "acc-1")
    _link(store, "acc-1", "Contact", "001A")  # the same external ID in another object

    wanted = ["001A", "001B", "001C", "001Z"]
    batch = resolve_xrefs(store.engine, "salesforce", "Account", wanted)
    for external_id in wanted:
        assert batch.get(external_id) == store.resolve_xref("salesforce", "Account", external_id)
    assert batch["001B"] == ("Account", "acc-1")
    assert "001Z" not in batch
    assert resolve_xrefs(store.engine, "salesforce", "Contact", ["001A"]) == {
        "001A": ("Account", "acc-1")
    }


def test_many_keys_are_read_in_chunks(store: GoldenStore) -> None:
    changes = [
        Change(account(f"acc-{i}", f"Name {i}", f"S{i:04d}"), utc(2026, 2, 1), "salesforce")
        for i in range(1200)
    ]
    store.write(changes)
    ids = [f"S{i:04d}" for i in range(1200)]
    resolved = resolve_xrefs(store.engine, "salesforce", "Account", ids)
    assert len(resolved) == 1200 and resolved["S0999"] == ("Account", "acc-999")
    current = latest(store.engine, resolved.values())
    assert len(current) == 1200
    assert current[("Account", "acc-1100")].payload["name"] == "Name 1100"
