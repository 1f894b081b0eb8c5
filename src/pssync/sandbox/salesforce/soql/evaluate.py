"""Binding a parsed query to the schema and compiling it into Python closures over records.

Field names are resolved once per query (giving INVALID_FIELD with the position, as the
platform does), then the WHERE clause becomes a predicate, ORDER BY a sequence of stable sorts,
and the select list a projector. Stored values are in wire form (dates and UTC datetimes sort
as strings), so evaluation is a plain pass over the rows: linear in the object's size.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pssync.sandbox.salesforce.catalog import Catalog
from pssync.sandbox.salesforce.data import Record
from pssync.sandbox.salesforce.errors import SalesforceError, invalid_field, malformed
from pssync.sandbox.salesforce.ids import is_valid_id, to18
from pssync.sandbox.salesforce.schema import NUMERIC, TEXT, FieldDef, ObjectDef
from pssync.sandbox.salesforce.soql import ast
from pssync.sandbox.salesforce.soql.dates import date_range
from pssync.sandbox.salesforce.soql.lexer import located
from pssync.sandbox.salesforce.timefmt import normalize_datetime

Fetch = Callable[[str, str], Record | None]
Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]

_NO_COLUMN = (
    "No such column '{name}' on entity '{obj}'. If you are attempting to use a custom field, be"
    " sure to append the '__c' after the custom field name. Please reference your WSDL or the"
    " describe call for the appropriate names."
)
_NO_RELATIONSHIP = (
    "Didn't understand relationship '{name}' in field path. If you are attempting to use a"
    " custom relationship, be sure to append the '__r' after the custom relationship name."
    " Please reference your WSDL or the describe call for the appropriate names."
)
MAX_OFFSET = 2000


@dataclass
class Bound:
    """A field path resolved to its hops (reference fields) and final field."""

    hops: list[tuple[FieldDef, ObjectDef]]
    field: FieldDef
    getter: Getter

    @property
    def folded(self) -> Getter:
        """The value as SOQL compares it: text case-insensitively, everything else as stored."""
        if self.field.type not in TEXT:
            return self.getter
        get = self.getter

        def folded(record: Record) -> Any:
            value = get(record)
            return value.casefold() if isinstance(value, str) else value

        return folded


@dataclass
class Compiled:
    obj: ObjectDef
    predicate: Predicate
    sort: Callable[[list[Record]], list[Record]]
    project: Callable[[Record], dict[str, Any]]
    count_only: bool
    limit: int | None
    offset: int


class Compiler:
    def __init__(self, catalog: Catalog, fetch: Fetch, version: str, today: dt.date) -> None:
        self.catalog = catalog
        self.fetch = fetch
        self.version = version
        self.today = today

    def compile(self, query: ast.Query) -> Compiled:
        obj = self.catalog.get(query.sobject)
        if obj is None:
            message = (
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use a"
                " custom object, be sure to append the '__c' after the entity name. Please"
                " reference your WSDL or the describe call for the appropriate names."
            )
            raise SalesforceError(
                400, "INVALID_TYPE", located(query.text, query.sobject_pos, message)
            )
        self.text = query.text
        selected = [self.bind(obj, ref) for ref in query.fields]
        predicate = self.condition(obj, query.where) if query.where else (lambda r: True)
        order = [(self.bind(obj, item.field), item) for item in query.order_by]
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise SalesforceError(
                400, "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            )
        return Compiled(
            obj,
            predicate,
            lambda rows: _sort(rows, order),
            self._projector(obj, selected),
            query.count_only,
            query.limit,
            query.offset or 0,
        )

    # -- fields -----------------------------------------------------------------------------

    def bind(self, obj: ObjectDef, ref: ast.FieldRef) -> Bound:
        hops: list[tuple[FieldDef, ObjectDef]] = []
        current = obj
        for name in ref.path[:-1]:
            rel = current.relationship(name)
            target = self.catalog.get(rel.reference_to or "") if rel else None
            if rel is None or target is None:
                raise invalid_field(located(self.text, ref.pos, _NO_RELATIONSHIP.format(name=name)))
            hops.append((rel, target))
            current = target
        f = current.field(ref.path[-1])
        if f is None:
            message = _NO_COLUMN.format(name=ref.text, obj=obj.name)
            raise invalid_field(located(self.text, ref.pos, message))
        return Bound(hops, f, self._getter(hops, f.name))

    def _getter(self, hops: list[tuple[FieldDef, ObjectDef]], name: str) -> Getter:
        if not hops:
            return lambda r: r.get(name)
        fetch = self.fetch

        def get(record: Record) -> Any:
            current: Record | None = record
            for rel, target in hops:
                ref_id = current.get(rel.name) if current else None
                current = fetch(target.name, ref_id) if ref_id else None
            return current.get(name) if current else None

        return get

    # -- WHERE ------------------------------------------------------------------------------

    def condition(self, obj: ObjectDef, cond: ast.Condition) -> Predicate:
        if isinstance(cond, ast.BoolOp):
            parts = [self.condition(obj, c) for c in cond.operands]
            if cond.op == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(cond, ast.Not):
            inner = self.condition(obj, cond.operand)
            return lambda r: not inner(r)
        bound = self.bind(obj, cond.field)
        get = bound.folded
        if isinstance(cond, ast.Like):
            if bound.field.type not in TEXT:
                raise malformed(located(self.text, cond.field.pos, "invalid operator on field"))
            regex = _like_regex(str(cond.pattern.value))
            return lambda r: (v := get(r)) is not None and regex.match(str(v)) is not None
        if isinstance(cond, ast.InList):
            keys = {self.operand(bound.field, v) for v in cond.values}
            if cond.negate:
                return lambda r: get(r) not in keys
            return lambda r: get(r) in keys
        return self.compare(bound, cond)

    def compare(self, bound: Bound, cond: ast.Compare) -> Predicate:
        get, op, lit = bound.folded, cond.op, cond.value
        if lit.kind == "null":
            if op not in ("=", "!="):
                raise malformed(located(self.text, lit.pos, "invalid operator for null"))
            return (lambda r: get(r) is None) if op == "=" else (lambda r: get(r) is not None)
        if lit.kind == "range":
            return self._range(bound, op, lit)
        value = self.operand(bound.field, lit)
        tests: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: v == value,
            "!=": lambda v: v != value,
            "<": lambda v: v is not None and v < value,
            "<=": lambda v: v is not None and v <= value,
            ">": lambda v: v is not None and v > value,
            ">=": lambda v: v is not None and v >= value,
        }
        test = tests[op]
        return lambda r: test(get(r))

    def _range(self, bound: Bound, op: str, lit: ast.Literal) -> Predicate:
        kind = bound.field.type
        if kind not in ("date", "datetime"):
            raise self._type_error(bound.field, lit)
        name, n = lit.value
        lo_date, hi_date = date_range(name, n, self.today)
        lo, hi = lo_date.isoformat(), hi_date.isoformat()
        if kind == "datetime":
            lo, hi = lo + "T00:00:00.000+0000", hi + "T00:00:00.000+0000"
        get = bound.getter
        tests: dict[str, Callable[[str], bool]] = {
            "=": lambda v: lo <= v < hi,
            "<": lambda v: v < lo,
            "<=": lambda v: v < hi,
            ">": lambda v: v >= hi,
            ">=": lambda v: v >= lo,
        }
        if op == "!=":
            return lambda r: (v := get(r)) is None or not lo <= v < hi
        test = tests[op]
        return lambda r: (v := get(r)) is not None and test(v)

    def operand(self, f: FieldDef, lit: ast.Literal) -> Any:
        """The literal in the stored form of the field's type (or a type error)."""
        kind = f.type
        if lit.kind == "null":
            return None
        if kind in TEXT and lit.kind == "string":
            text = str(lit.value)
            if kind in ("id", "reference") and len(text) == 15 and is_valid_id(text):
                text = to18(text)
            return text.casefold()
        if kind in NUMERIC and lit.kind == "number":
            return lit.value
        if kind == "boolean" and lit.kind == "boolean":
            return lit.value
        if kind == "date" and lit.kind == "date":
            return lit.value
        if kind == "datetime" and lit.kind == "datetime":
            return normalize_datetime(str(lit.value))
        raise self._type_error(f, lit)

    def _type_error(self, f: FieldDef, lit: ast.Literal) -> SalesforceError:
        wanted = {"datetime": "dateTime"}.get(f.type, f.type)
        message = f"value of filter criterion for field '{f.name}' must be of type {wanted}"
        if f.type not in TEXT:
            message += " and should not be enclosed in quotes"
        return malformed(located(self.text, lit.pos, message))

    # -- SELECT list ------------------------------------------------------------------------

    def _projector(
        self, obj: ObjectDef, selected: list[Bound]
    ) -> Callable[[Record], dict[str, Any]]:
        tree: dict[str, Any] = {}
        for bound in selected:
            node = tree
            for rel, target in bound.hops:
                node = node.setdefault(rel.relationship_name or rel.name, (rel, target, {}))[2]
            node[bound.field.name] = None
        version, fetch = self.version, self.fetch

        def project(record: Record, obj_name: str, node: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {"attributes": attributes(obj_name, record["Id"], version)}
            for key, sub in node.items():
                if sub is None:
                    out[key] = record.get(key)
                    continue
                rel, target, children = sub
                ref_id = record.get(rel.name)
                parent = fetch(target.name, ref_id) if ref_id else None
                out[key] = project(parent, target.name, children) if parent else None
            return out

        return lambda record: project(record, obj.name, tree)


def attributes(obj: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": obj, "url": f"/services/data/v{version}/sobjects/{obj}/{record_id}"}


def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)


def _sort(rows: list[Record], order: list[tuple[Bound, ast.OrderItem]]) -> list[Record]:
    """Stable multi-key sort: one pass per key, last key first."""
    for bound, item in reversed(order):
        get = bound.folded
        # With reverse=True the highest rank comes first, so flip the null rank accordingly.
        null_rank = 0 if item.nulls_first != item.descending else 2

        def key(r: Record, get: Getter = get, null_rank: int = null_rank) -> tuple[int, Any]:
            value = get(r)
            return (null_rank, 0) if value is None else (1, value)

        rows.sort(key=key, reverse=item.descending)
    return rows
