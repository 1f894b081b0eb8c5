"""A small OData v2 `$filter` parser: tokens, a recursive-descent grammar, a typed predicate.

Connectors build incremental reads as filters (``LastChangeDateTime gt datetimeoffset'…'``), so
the emulator must evaluate them exactly, and reject what SAP rejects (unknown properties, literals
of the wrong type, bad syntax) with a 400 instead of silently matching everything. No `eval`:
the grammar is

    expr    := and ('or' and)*
    and     := unary ('and' unary)*
    unary   := 'not' unary | compare
    compare := operand (('eq'|'ne'|'gt'|'ge'|'lt'|'le') operand)?
    operand := '(' expr ')' | function '(' expr (',' expr)* ')' | literal | property
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.sandbox.sap_s4.schema import EntitySet
from pssync.sandbox.sap_s4.values import EdmValueError, decode, parse_iso

Record = dict[str, Any]
Getter = Callable[[Record], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<typed>(?i:datetimeoffset|datetime|guid|time)'(?:[^']|'')*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[MmDdLlFf]?)
    | (?P<punct>[(),=])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_TIME = re.compile(r"^PT(\d{1,2})H(\d{1,2})M(?:(\d{1,2})(?:\.\d+)?S)?$")
# Which Python kinds each Edm type compares with.
_KINDS: dict[str, tuple[type, ...]] = {
    "Edm.String": (str,),
    "Edm.DateTime": (dt.datetime,),
    "Edm.DateTimeOffset": (dt.datetime,),
    "Edm.Decimal": (Decimal,),
    "Edm.Guid": (uuid.UUID,),
    "Edm.Boolean": (bool,),
    "Edm.Time": (dt.timedelta,),
}


_CASE: dict[str, Callable[[str], str]] = {
    "tolower": str.lower,
    "toupper": str.upper,
    "trim": str.strip,
}


class FilterError(ValueError):
    """The filter is not valid OData v2 for this entity set."""


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterError(f"invalid token at position {pos}: {text[pos : pos + 15]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def literal(kind: str, text: str) -> Any:
    """The Python value of a literal token."""
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "number":
        try:
            return Decimal(text.rstrip("MmDdLlFf"))
        except InvalidOperation as exc:
            raise FilterError(f"invalid number {text}") from exc
    prefix, _, quoted = text.partition("'")
    body = quoted[:-1].replace("''", "'")
    prefix = prefix.lower()
    try:
        if prefix == "guid":
            return uuid.UUID(body)
        if prefix == "time":
            match = _TIME.match(body)
            if match is None:
                raise FilterError(f"invalid time literal {text}")
            hours, minutes, seconds = (int(g or 0) for g in match.groups())
            return dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)
        moment = parse_iso(body)
    except (ValueError, EdmValueError) as exc:
        raise FilterError(f"invalid literal {text}") from exc
    return moment


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], entity_set: EntitySet) -> None:
        self.tokens = tokens
        self.pos = 0
        self.entity_set = entity_set

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("unexpected end of filter")
        self.pos += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token and token[0] == "name" and token[1] in words:
            self.pos += 1
            return token[1]
        return None

    def expect(self, punct: str) -> None:
        if self.take() != ("punct", punct):
            raise FilterError(f"expected {punct!r}")

    def expr(self) -> tuple[Getter, str | None]:
        left = self.and_()
        while self.keyword("or"):
            right = self.and_()
            left = _boolean(left, right, any)
        return left

    def and_(self) -> tuple[Getter, str | None]:
        left = self.unary()
        while self.keyword("and"):
            right = self.unary()
            left = _boolean(left, right, all)
        return left

    def unary(self) -> tuple[Getter, str | None]:
        if self.keyword("not"):
            inner, edm = self.unary()
            _require_bool(edm, "not")
            return (lambda r: not inner(r)), "Edm.Boolean"
        return self.compare()

    def compare(self) -> tuple[Getter, str | None]:
        left = self.operand()
        op = self.keyword(*_COMPARE)
        if op is None:
            return left
        right = self.operand()
        return _comparison(op, left, right), "Edm.Boolean"

    def operand(self) -> tuple[Getter, str | None]:
        kind, text = self.take()
        if (kind, text) == ("punct", "("):
            inner = self.expr()
            self.expect(")")
            return inner
        if kind == "name" and text in ("true", "false", "null"):
            value = None if text == "null" else text == "true"
            return (lambda r: value), ("Edm.Boolean" if value is not None else None)
        if kind == "name":
            if self.peek() == ("punct", "("):
                return self.function(text)
            return self.property(text)
        if kind in ("string", "number", "typed"):
            value = literal(kind, text)
            return (lambda r: value), _edm_of(value)
        raise FilterError(f"unexpected {text!r}")

    def property(self, name: str) -> tuple[Getter, str | None]:
        prop = self.entity_set.prop(name)
        if prop is None:
            raise FilterError(f"Property {name} not found in type {self.entity_set.type_name}")
        return (lambda r: decode(prop, r.get(name))), prop.edm

    def function(self, name: str) -> tuple[Getter, str | None]:
        self.expect("(")
        args = [self.expr()]
        while self.peek() == ("punct", ","):
            self.pos += 1
            args.append(self.expr())
        self.expect(")")
        return _function(name, args)


def _edm_of(value: Any) -> str:
    for edm, kinds in _KINDS.items():
        if isinstance(value, kinds) and not (edm != "Edm.Boolean" and isinstance(value, bool)):
            return edm
    return "Edm.String"


def _compatible(a: str | None, b: str | None) -> bool:
    if a is None or b is None or a == b:
        return True
    return {a, b} == {"Edm.DateTime", "Edm.DateTimeOffset"}


def _require_bool(edm: str | None, where: str) -> None:
    if edm not in ("Edm.Boolean", None):
        raise FilterError(f"'{where}' needs a boolean operand")


def _boolean(
    left: tuple[Getter, str | None],
    right: tuple[Getter, str | None],
    combine: Callable[[Iterable[object]], bool],
) -> tuple[Getter, str | None]:
    _require_bool(left[1], "and/or")
    _require_bool(right[1], "and/or")
    lget, rget = left[0], right[0]
    return (lambda r: bool(combine((lget(r), rget(r))))), "Edm.Boolean"


def _comparison(
    op: str, left: tuple[Getter, str | None], right: tuple[Getter, str | None]
) -> Getter:
    if not _compatible(left[1], right[1]):
        raise FilterError(f"Invalid parametertype used at function '{op}'")
    compare, lget, rget = _COMPARE[op], left[0], right[0]

    def evaluate(record: Record) -> bool:
        a, b = lget(record), rget(record)
        if a is None or b is None:
            return compare(a, b) if op in ("eq", "ne") else False
        return compare(a, b)

    return evaluate


def _string_args(name: str, args: list[tuple[Getter, str | None]], count: int) -> list[Getter]:
    if len(args) != count:
        raise FilterError(f"function {name} takes {count} argument(s)")
    for _, edm in args:
        if edm not in ("Edm.String", None):
            raise FilterError(f"Invalid parametertype used at function '{name}'")
    return [getter for getter, _ in args]


def _function(name: str, args: list[tuple[Getter, str | None]]) -> tuple[Getter, str | None]:
    def text(getter: Getter, record: Record) -> str:
        value = getter(record)
        return "" if value is None else str(value)

    if name in ("substringof", "startswith", "endswith"):
        a, b = _string_args(name, args, 2)
        if name == "substringof":  # v2 order: substringof(needle, haystack)
            return (lambda r: text(a, r) in text(b, r)), "Edm.Boolean"
        method = str.startswith if name == "startswith" else str.endswith
        return (lambda r: method(text(a, r), text(b, r))), "Edm.Boolean"
    if name in ("tolower", "toupper", "trim"):
        (a,) = _string_args(name, args, 1)
        change = _CASE[name]
        return (lambda r: change(text(a, r))), "Edm.String"
    if name == "length":
        (a,) = _string_args(name, args, 1)
        return (lambda r: Decimal(len(text(a, r)))), "Edm.Decimal"
    raise FilterError(f"unsupported function {name}")


def compile_filter(text: str, entity_set: EntitySet) -> Callable[[Record], bool]:
    """A predicate over stored records; FilterError if the filter is invalid."""
    parser = _Parser(tokenize(text), entity_set)
    getter, edm = parser.expr()
    if parser.peek() is not None:
        raise FilterError(f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    _require_bool(edm, "$filter")
    return lambda record: getter(record) is True
