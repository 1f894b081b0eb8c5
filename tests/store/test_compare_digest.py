"""Compare digests: the one reconciliation computes from source columns equals the one a golden
write stores, and a stored digest is always the current version's (or NULL), whatever the
sequence of writes, deletes and back-dated writes."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pssync.model import Account
from pssync.store import Change, GoldenStore, compare_digest, open_engine
from pssync.store.lookup import live_payloads
from pssync.store.tables import xref

FIELDS = ("legal_name", "name", "tax_id")
# Text with what could make two value lists read alike: the separator, "=", ":", digits,
# non-ASCII and astral characters.
TEXT = st.text(alphabet=st.sampled_from("aZ0 9=:-\x1f\u00e9\u2028\U0001f600"), max_size=6)
VALUE = st.none() | TEXT


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    compare_digest.register("erp", "customers", FIELDS)
    yield
    compare_digest._FIELDS.pop(("erp", "customers"), None)


@given(st.lists(st.tuples(VALUE, VALUE, VALUE), min_size=1, max_size=20))
def test_source_columns_digest_as_the_golden_payload_does(
    rows: list[tuple[str | None, ...]],
) -> None:
    frame = pl.DataFrame(rows, schema=dict.fromkeys(FIELDS, pl.String), orient="row")
    digests = compare_digest.source_digests(frame, FIELDS).to_list()
    payloads = [dict(zip(FIELDS, r, strict=True)) for r in rows]
    assert digests == [compare_digest.golden_digest(FIELDS, p) for p in payloads]
    # Different values, different digests (no two value lists share a text).
    texts = {compare_digest.text_of(FIELDS, r): d for r, d in zip(rows, digests, strict=True)}
    assert len(set(texts.values())) == len(texts)


def test_a_non_string_value_has_no_digest() -> None:
    assert compare_digest.golden_digest(("n",), {"n": 1}) is None
    assert compare_digest.golden_digest(("n",), {"n": "1"}) is not None


def utc(day: int) -> dt.datetime:
    return dt.datetime(2026, 1, day, tzinfo=dt.UTC)


WRITE = st.tuples(
    st.just("write"), st.integers(0, 3), st.integers(1, 9), TEXT, VALUE, st.booleans()
)
DELETE = st.tuples(st.just("delete"), st.integers(0, 3), st.integers(1, 9))


@settings(max_examples=40, deadline=None)
@given(st.lists(WRITE | DELETE, min_size=1, max_size=12))
def test_stored_digest_is_the_current_versions(steps: list[tuple]) -> None:
    """Writes (some back-dated, some linking the unregistered CRM object too), deletes: after
    each, every xref's stored digest is the one recomputed from its record's current version,
    and NULL only where the object is not registered or the record deleted."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'golden.db'}")
        store = GoldenStore(engine, clock=lambda: dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
        try:
            for step in steps:
                apply(store, step)
                check(store)
        finally:
            engine.dispose()


def apply(store: GoldenStore, step: tuple) -> None:
    if step[0] == "delete":
        _, n, day = step
        store.delete("Account", f"acc-{n}", utc(day), system="erp")
        return
    _, n, day, name, tax_id, crm = step
    xrefs = {"erp:customers": f"C{n}"} | ({"crm:Account": f"001{n}"} if crm else {})
    payload = {"id": f"acc-{n}", "name": name or "x", "tax_id": tax_id, "xrefs": xrefs}
    store.write([Change(Account.model_validate(payload), utc(day), "erp")])


def check(store: GoldenStore) -> None:
    x = xref.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(x.record_id, x.system, x.object, x.compare_digest)).all()
    live = live_payloads(store.engine, [("Account", r.record_id) for r in rows])
    for row in rows:
        text = live.get(("Account", row.record_id))
        fields = compare_digest.registered(row.system, row.object)
        expected = None
        if fields is not None and text is not None:
            expected = compare_digest.golden_digest(fields, json.loads(text))
        assert row.compare_digest == expected, (row, text)
