"""The governed write with what the page pipeline already holds (its records dumped, the
versions it read up front) decides exactly as when it reads and dumps them itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pssync.config.settings import default_system_of_record
from pssync.governance.gate import write_governed
from pssync.governance.ownership import OwnershipPolicy
from pssync.model import Account
from pssync.store import Change, GoldenStore, open_engine
from pssync.store.lookup import known_versions

ROLES: dict[str, str | None] = {"salesforce": "crm", "netsuite": "erp"}
T = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def account(record_id: str, **fields: object) -> Account:
    return Account.model_validate({"id": record_id, "name": "Northwind", **fields})


def test_prefetched_versions_and_payloads_refuse_what_a_fresh_read_refuses(
    tmp_path: Path,
) -> None:
    policy = OwnershipPolicy(default_system_of_record())
    results = []
    for given in (False, True):
        store = GoldenStore(open_engine(f"sqlite:///{tmp_path}/gate-{given}.db"))
        write_governed(
            store, policy, [Change(account("acc-1", tax_id="US-1"), T, "netsuite")], ROLES
        )
        changes = [
            Change(account("acc-1", tax_id="FAKE", industry="Retail"), T, "salesforce"),
            Change(account("acc-2", tax_id="US-7"), T, "salesforce"),  # new: gap filled
        ]
        keys = [("Account", "acc-1"), ("Account", "acc-2")]
        found = known_versions(store.engine, keys)
        if given:
            payloads = [c.record.model_dump(mode="json") for c in changes]
            prefetched = {k: found.get(k, []) for k in keys}
            out = write_governed(
                store, policy, changes, ROLES, payloads=payloads, prefetched=prefetched
            )
        else:
            out = write_governed(store, policy, changes, ROLES)
        golden = {rid: store.get("Account", rid) for rid in ("acc-1", "acc-2")}
        results.append(
            (
                [(rid, r.field) for _, rid, r in out.refused],
                {rid: v.payload["tax_id"] for rid, v in golden.items() if v is not None},
            )
        )
    assert results[0] == results[1] == ([("acc-1", "tax_id")], {"acc-1": "US-1", "acc-2": "US-7"})


def test_a_strict_matrix_refuses_a_non_owner_on_a_new_record(tmp_path: Path) -> None:
    """Nothing golden yet is no free pass when gaps may not be filled."""
    store = GoldenStore(open_engine(f"sqlite:///{tmp_path}/strict.db"))
    strict = OwnershipPolicy(default_system_of_record(), fill_gaps=False)
    change = Change(account("acc-3", tax_id="US-9"), T, "salesforce")
    out = write_governed(store, strict, [change], ROLES, prefetched={("Account", "acc-3"): []})
    assert [(rid, r.field) for _, rid, r in out.refused] == [("acc-3", "tax_id")]
    golden = store.get("Account", "acc-3")
    assert golden is not None and golden.payload.get("tax_id") is None
