"""The mapping applied to a whole column at once, for the rules that are plain.

Reconciling a million records one `Translator.to_canonical` call at a time costs more than
the comparison itself. Most mapped fields are plain: a rename, a crosswalk, a constant, a
default for an empty value. For an object whose every rule is plain this module computes the
canonical value of each field for all rows in one polars expression each, with the
translator's semantics (see `tests/mapping/test_columns.py`, which checks the two agree).
What a column cannot say exactly (a value missing from a crosswalk) it flags, so the caller
translates those rows one by one instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pssync.mapping.spec import FieldRule, MappingSpec

# Set on a row whose fields the columns cannot give exactly (a value a crosswalk lacks).
UNDECIDED = "__undecided"
# What Python's `str.strip()` strips (the translator's test for an empty value): more than
# polars' default, which leaves e.g. the information separators \x1c-\x1f.
_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


@dataclass(frozen=True)
class ColumnPlan:
    """The plain rules of one object: canonical field -> its rule."""

    fields: dict[str, FieldRule]
    crosswalks: dict[str, dict[str, str]]


def column_plan(spec: MappingSpec, obj: str) -> ColumnPlan | None:
    """The plan for `obj`, or None when a rule is not plain (conversions, money, concat,
    conditions, nested fields): such an object is translated record by record.

    `xrefs.*` rules are identity evidence reconciliation does not compare; a plain one is left
    out of the plan, any other makes the object not plain (it could fail to translate)."""
    fields: dict[str, FieldRule] = {}
    for name, rule in spec.objects[obj].fields.items():
        if not _plain(rule):
            return None
        if name.startswith("xrefs."):
            continue
        if "." in name:
            return None
        fields[name] = rule
    walks = {name: spec.crosswalks[name] for name in {r.crosswalk for r in fields.values()} if name}
    return ColumnPlan(fields, walks)


def _plain(rule: FieldRule) -> bool:
    if rule.when is not None or rule.concat is not None or rule.money is not None:
        return False
    if rule.const is not None:
        return isinstance(rule.const, str)
    if rule.default is not None and not isinstance(rule.default, str):
        return False
    return rule.as_ in (None, "str")


def canonical_columns(plan: ColumnPlan, frame: pl.DataFrame) -> pl.DataFrame:
    """One column per planned field (null where the translator leaves the field out) and
    `UNDECIDED`, for `frame` whose columns are the vendor fields as strings (null: empty)."""
    exprs: list[pl.Expr] = []
    misses: list[pl.Expr] = []
    for name, rule in plan.fields.items():
        if rule.const is not None:
            exprs.append(pl.lit(rule.const, dtype=pl.String).alias(name))
            continue
        column = rule.from_ or ""
        raw = pl.col(column) if column in frame.columns else pl.lit(None, dtype=pl.String)
        stripped = raw.str.strip_chars(_WHITESPACE)
        empty = raw.is_null() | (stripped == "")
        default = pl.lit(rule.default, dtype=pl.String)
        if rule.crosswalk is None:
            exprs.append(pl.when(empty).then(default).otherwise(raw).alias(name))
            continue
        table = plan.crosswalks[rule.crosswalk]
        # Exact key after stripping; the translator's case-folded second try and its problem
        # for a miss are left to it: a miss is undecided here.
        looked = stripped.replace_strict(table, default=None, return_dtype=pl.String)
        exprs.append(pl.when(empty).then(default).otherwise(looked).alias(name))
        misses.append(~empty & looked.is_null())
    undecided = pl.any_horizontal(misses) if misses else pl.lit(False)
    return frame.select(*exprs, undecided.alias(UNDECIDED))
