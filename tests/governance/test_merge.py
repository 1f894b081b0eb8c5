"""Merging a duplicate customer keeps both sources' IDs and resolves its exception."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from pssync.governance.exceptions import ExceptionStore, NewException
from pssync.governance.merge import merge_records
from pssync.model import Account
from pssync.store import Change, GoldenStore, compare_digest
from pssync.store.audit import verify_chain
from pssync.store.tables import xref

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


def test_merge_leaves_no_compare_digest_of_the_duplicate(store: GoldenStore) -> None:
    """A moved link's digest was the duplicate's payload's: NULL until the survivor's next write
    (reconciliation then compares its fields); the duplicate's own links follow its delete."""
    compare_digest.register("sap_s4", "A_BusinessPartner", ("name",))
    compare_digest.register("salesforce", "Account", ("name",))
    try:
        survivor = Account(id="acc-1", name="Acme", xrefs={"salesforce:Account": "001A"})
        dup = Account(
            id="acc-2",
            name="ACME Inc.",
            xrefs={"salesforce:Account": "001B", "sap_s4:A_BusinessPartner": "1000042"},
        )
        store.write([Change(survivor, T, "salesforce"), Change(dup, T, "salesforce")])
        assert None not in digests(store).values()
        merge_records(store, ExceptionStore(store.engine), "Account", "acc-1", "acc-2", actor="x")
        after = digests(store)
        assert after["1000042"] is None and after["001B"] is None
        assert after["001A"] == compare_digest.golden_digest(("name",), {"name": "Acme"})
    finally:
        compare_digest._FIELDS.pop(("sap_s4", "A_BusinessPartner"), None)
        compare_digest._FIELDS.pop(("salesforce", "Account"), None)


def digests(store: GoldenStore) -> dict[str, str | None]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(xref.c.external_id, xref.c.compare_digest)).all())
