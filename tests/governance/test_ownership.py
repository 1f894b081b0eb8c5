"""System-of-record enforcement: non-owner writes are refused and audited, owners' go through."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from pssync.config.settings import default_system_of_record
from pssync.governance.gate import write_governed
from pssync.governance.ownership import OwnershipPolicy
from pssync.model import Account
from pssync.store import Change, GoldenStore
from pssync.store.tables import audit_log

ROLES = {"salesforce": "crm", "netsuite": "erp", "kantata": "psa", "import": None}
T = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def account(**fields: object) -> Account:
    return Account.model_validate({"id": "acc-1", "name": "Northwind", **fields})


def test_policy_reverts_non_owned_changes() -> None:
    policy = OwnershipPolicy(default_system_of_record())
    current = {"id": "acc-1", "name": "Northwind", "tax_id": "US-1"}
    out = policy.apply(
        "Account", "crm", {"id": "acc-1", "name": "Northwind Inc", "tax_id": "US-2"}, current
    )
    assert out.payload["name"] == "Northwind Inc"
    assert out.payload["tax_id"] == "US-1"
    (refusal,) = out.refused
    assert (refusal.field, refusal.owner, refusal.attempted) == ("tax_id", "erp", "US-2")
    assert "owned by erp" in refusal.reason


def test_gap_fill_is_allowed_unless_strict() -> None:
    incoming = {"id": "acc-1", "name": "N", "tax_id": "US-9"}
    relaxed = OwnershipPolicy(default_system_of_record()).apply(
        "Account", "crm", incoming, {"name": "N"}
    )
    strict = OwnershipPolicy(default_system_of_record(), fill_gaps=False).apply(
        "Account", "crm", incoming, {"name": "N"}
    )
    assert relaxed.payload["tax_id"] == "US-9" and not relaxed.refused
    assert "tax_id" not in strict.payload and strict.refused[0].field == "tax_id"


def test_non_owner_write_refused_and_audited_owner_write_applied(store: GoldenStore) -> None:
    policy = OwnershipPolicy(default_system_of_record())
    write_governed(store, policy, [Change(account(tax_id="US-1"), T, "netsuite")], ROLES)

    crm = write_governed(
        store, policy, [Change(account(tax_id="FAKE", industry="Retail"), T, "salesforce")], ROLES
    )
    golden = store.get("Account", "acc-1")
    assert golden is not None
    assert golden.payload["tax_id"] == "US-1"  # refused
    assert golden.payload["industry"] == "Retail"  # CRM owns it
    assert [r.field for _, _, r in crm.refused] == ["tax_id"]
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.action == "refused")).one()
    assert row.actor == "salesforce" and row.record_id == "acc-1"
    assert "owned by erp" in row.reason
    assert json.loads(row.changes) == {"fields": {"tax_id": ["US-1", "FAKE"]}}

    erp = write_governed(
        store, policy, [Change(account(tax_id="US-2", industry="Retail"), T, "netsuite")], ROLES
    )
    assert not erp.refused
    assert store.get("Account", "acc-1").payload["tax_id"] == "US-2"  # type: ignore[union-attr]
    assert store.provenance("Account", "acc-1", "tax_id")["system"] == "netsuite"  # type: ignore[index]
