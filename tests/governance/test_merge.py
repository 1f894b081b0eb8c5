"""Merging a duplicate customer keeps both sources' IDs and resolves its exception."""

from __future__ import annotations

import datetime as dt

import pytest

from pssync.governance.exceptions import ExceptionStore, NewException
from pssync.governance.merge import merge_records
from pssync.model import Account
from pssync.store import Change, GoldenStore
from pssync.store.audit import verify_chain

T = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_merge_keeps_both_sources_xrefs(store: GoldenStore) -> None:
    crm = Account(
        id="acc-1",
        name="Acme Corp",
        xrefs={"salesforce:Account": "001A", "netsuite:customer": "77"},
    )
    dup = Account(
        id="acc-2",
        name="ACME Corporation Inc.",
        xrefs={"salesforce:Account": "001B", "sap_s4:A_BusinessPartner": "1000042"},
    )
    store.write([Change(crm, T, "salesforce"), Change(dup, T, "salesforce")])
    exceptions = ExceptionStore(store.engine)
    flagged = exceptions.raise_(
        NewException(
            category="duplicate_customer",
            message="acc-2 looks like acc-1",
            entity_type="Account",
            record_id="acc-2",
            details={"candidates": [{"id": "acc-1", "score": 0.95}]},
        )
    )

    result = merge_records(store, exceptions, "Account", "acc-1", "acc-2", actor="mdm@firm")

    assert store.get("Account", "acc-2") is None and store.get("Account", "acc-1") is not None
    assert store.xrefs("Account", "acc-1") == {
        "salesforce:Account": "001A",
        "netsuite:customer": "77",
        "sap_s4:A_BusinessPartner": "1000042",
    }
    # The duplicate's own CRM ID (same system as the survivor's) still resolves to the survivor.
    assert store.resolve_xref("salesforce", "Account", "001B") == ("Account", "acc-1")
    assert store.resolve_xref("sap_s4", "A_BusinessPartner", "1000042") == ("Account", "acc-1")
    assert result.moved_xrefs == ["sap_s4:A_BusinessPartner:1000042"]
    assert result.redirected_xrefs == ["salesforce:Account:001B"]
    assert exceptions.get(flagged.id).state == "resolved"  # type: ignore[union-attr]
    assert verify_chain(store.engine).ok


def test_merge_refuses_unknown_or_self(store: GoldenStore) -> None:
    store.write([Change(Account(id="acc-1", name="A"), T, "crm")])
    exceptions = ExceptionStore(store.engine)
    with pytest.raises(ValueError):
        merge_records(store, exceptions, "Account", "acc-1", "acc-1", actor="x")
    with pytest.raises(KeyError):
        merge_records(store, exceptions, "Account", "acc-1", "acc-9", actor="x")
