"""The column mapping and the per-record translator give the same canonical values.

Reconciliation's columnar path (engine/reconcile_columns.py) counts a record in step from the
columns alone, so each column value must be what `Translator.to_canonical` gives for that
record's field, and every row the translator would refuse must be flagged undecided."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pssync.mapping.columns import UNDECIDED, canonical_columns, column_plan
from pssync.mapping.spec import MappingSpec
from pssync.mapping.translator import Translator

WALK = {"NET30": "Net 30", "Net 45": "Net 45", "cod": "Cash"}
SPEC = MappingSpec.model_validate(
    {
        "system": "erp",
        "objects": {
            "customers": {
                "entity": "Account",
                "id_field": "erp_id",
                "fields": {
                    "name": "name",
                    "legal_name": {"from": "name", "write": False},
                    "tax_id": {"from": "tax", "as": "str"},
                    "region_id": {"from": "region", "default": "reg-na"},
                    "payment_terms": {"from": "terms", "crosswalk": "terms"},
                    "currency": {"from": "ccy", "crosswalk": "terms", "default": "Net 30"},
                    "legal_entity_id": {"const": "le-1"},
                    "xrefs.crm:Account": {"from": "crm_id", "write": False},
                },
            },
            "projects": {
                "entity": "Project",
                "fields": {"name": "name", "planned_start": {"from": "start", "as": "date"}},
            },
        },
        "crosswalks": {"terms": WALK},
    }
)

# Values that probe the edges: empty and blank strings, padded and case-changed crosswalk
# keys, whitespace the two sides might strip differently, quotes and non-ASCII text.
_edge = st.sampled_from(
    ["", " ", "\t", "\x1c", "\u00a0", "NET30", " NET30 ", "net30", "cod", "COD", "Net 45"]
)
_value = st.one_of(st.none(), _edge, st.text(max_size=8))
_row = st.fixed_dictionaries(
    {k: _value for k in ("name", "tax", "region", "terms", "ccy", "crm_id")}
    | {"erp_id": st.just("E1")}
)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(_row, min_size=1, max_size=20))
def test_columns_give_the_translators_values_or_flag_the_row(rows: list[dict[str, Any]]) -> None:
    plan = column_plan(SPEC, "customers")
    assert plan is not None and "xrefs.crm:Account" not in plan.fields
    frame = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))
    columns = canonical_columns(plan, frame).to_dicts()
    translator = Translator(SPEC)
    for row, got in zip(rows, columns, strict=True):
        fields, problems = translator.to_canonical_partial("customers", row)
        if problems:
            assert got[UNDECIDED], (row, problems)
        if got[UNDECIDED]:
            continue
        assert not problems
        for name in plan.fields:
            assert got[name] == fields.get(name), (name, row, got, fields)


def test_an_object_with_a_conversion_is_not_planned() -> None:
    """A date conversion (or money, concat, a condition) is left to the translator."""
    assert column_plan(SPEC, "projects") is None
