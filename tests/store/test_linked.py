"""The linked-records frame answers what the one-record reads answer (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from sqlalchemy import insert

from pssync.model import Account
from pssync.store import Change, GoldenStore, compare_digest, linked
from pssync.store.linked import PLAIN, linked_digests, linked_frame
from pssync.store.lookup import live_payloads
from pssync.store.tables import record_merge

NAMES = {
    "001A": 'Quote "and" back\\slash',
    "001B": "Ünïcödé \u2028 line",
    "001C": "Merged away",
    "001D": "Deleted since",
    "001E": "Plain",
}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_frame_gives_each_plain_links_fields_and_flags_the_rest(store: GoldenStore) -> None:
    for n, (source, name) in enumerate(NAMES.items()):
        payload = {"id": f"acc-{n}", "name": name, "xrefs": {"salesforce:Account": source}}
        if source == "001E":
            payload["legal_name"] = "Plain Pty"
        store.write([Change(Account.model_validate(payload), utc(2026, 2, 1), "salesforce")])
    with store.engine.begin() as conn:
        conn.execute(
            insert(record_merge).values(
                entity_type="Account",
                from_id="acc-2",
                to_id="acc-4",
                merged_at=utc(2026, 3, 1),
                actor="test",
            )
        )
    assert store.delete("Account", "acc-3", utc(2026, 3, 1), system="salesforce")

    frame = linked_frame(store.engine, "salesforce", "Account", ["name", "legal_name"])
    rows = {r["external_id"]: r for r in frame.to_dicts()}
    assert set(rows) == set(NAMES)
    live = live_payloads(store.engine, [("Account", f"acc-{n}") for n in range(5)])
    for n, source in enumerate(NAMES):
        row = rows[source]
        assert (row["entity_type"], row["record_id"]) == ("Account", f"acc-{n}")
        if source in ("001C", "001D"):  # merged away, deleted: compared one by one
            assert not row[PLAIN]
            continue
        assert row[PLAIN]
        golden = json.loads(live[("Account", f"acc-{n}")])
        assert row["name"] == golden["name"] == NAMES[source]
        assert row["legal_name"] == golden.get("legal_name")  # JSON null reads as null
    assert rows["001E"]["legal_name"] == "Plain Pty"
    assert linked_frame(store.engine, "salesforce", "Contact", ["name"]).height == 0


def test_digest_frame_reads_the_links_alone_and_flags_merged_away(
    store: GoldenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    compare_digest.register("salesforce", "Account", ["name"])
    try:
        for n, source in enumerate(("001A", "001B", "001C")):
            payload = {"id": f"acc-{n}", "name": source, "xrefs": {"salesforce:Account": source}}
            store.write([Change(Account.model_validate(payload), utc(2026, 2, 1), "salesforce")])
    finally:
        compare_digest._FIELDS.pop(("salesforce", "Account"), None)
    with store.engine.begin() as conn:
        conn.execute(
            insert(record_merge).values(
                entity_type="Account",
                from_id="acc-1",
                to_id="acc-0",
                merged_at=utc(2026, 3, 1),
                actor="test",
            )
        )
    rows = {
        r["external_id"]: r
        for r in linked_digests(store.engine, "salesforce", "Account").to_dicts()
    }
    assert {k: r[PLAIN] for k, r in rows.items()} == {"001A": True, "001B": False, "001C": True}
    assert rows["001C"]["digest"] == compare_digest.golden_digest(["name"], {"name": "001C"})

    wanted = pl.Series(["001C", "001A", "001X"])
    few = linked_frame(store.engine, "salesforce", "Account", ["name"], wanted)
    assert sorted(few.get_column("external_id")) == ["001A", "001C"]
    assert few.filter(pl.col("external_id") == "001C").item(0, "name") == "001C"
    monkeypatch.setattr(linked, "_FEW", 0)  # many IDs: the one scan, filtered
    scanned = linked_frame(store.engine, "salesforce", "Account", ["name"], wanted)
    assert scanned.sort("external_id").equals(few.sort("external_id"))
