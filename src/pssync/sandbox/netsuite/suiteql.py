"""A parser for the subset of SuiteQL that integrations send, compiled to Python closures.

Supported: `SELECT * | expr [AS alias], ... FROM table [alias] [[INNER | LEFT [OUTER]] JOIN
table alias ON a.col = b.col [AND ...]]... [WHERE cond] [ORDER BY col [ASC|DESC], ...]`, where
a condition combines comparisons (`= <> != < <= > >=`), `[NOT] IN (...)`, `[NOT] LIKE '...'`,
`[NOT] BETWEEN a AND b`, `IS [NOT] NULL`, `AND`, `OR`, `NOT` and parentheses; operands are
columns (optionally `alias.column`), string and number literals,
`TO_DATE('...', fmt)` and `TO_CHAR(col, fmt)` with Oracle's format models (`datefmt`), `UPPER`,
`LOWER`, `SYSDATE`.
Anything else is a syntax error (400), never evaluated: there is no `eval` here.

Value semantics (NULLs, dates, numbers, LIKE) live in `sqlvalues`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pssync.sandbox.netsuite.datefmt import FormatError, to_char, to_date
from pssync.sandbox.netsuite.sqlvalues import compare, like, to_datetime

Row = dict[str, Any]
Operand = Callable[[Row], Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?)"
    r"|(?P<op><=|>=|<>|!=|=|<|>|\(|\)|,|\*))"
)
_KEYWORDS = frozenset(
    {"select", "from", "where", "order", "by", "and", "or", "not", "in", "like", "between"}
    | {"is", "null", "asc", "desc", "as", "join", "inner", "left", "outer", "on"}
)
_COMPARE: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "<>": lambda c: c != 0,
    "!=": lambda c: c != 0,
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


class SuiteQLError(ValueError):
    """The query is outside the supported grammar or malformed."""


@dataclass(frozen=True)
class Join:
    """`[INNER | LEFT [OUTER]] JOIN table alias ON a.x = b.y [AND ...]`: equality on columns
    only, the joined table's side and the earlier tables' side as qualified keys."""

    table: str
    alias: str
    outer: bool
    keys: list[tuple[str, str]]  # (this table's "alias.column", an earlier "alias.column")


@dataclass(frozen=True)
class Query:
    table: str
    columns: list[tuple[Operand, str]] | None  # None means SELECT *
    where: Predicate | None
    order: list[tuple[Operand, bool]]  # (value, descending)
    alias: str = ""
    joins: tuple[Join, ...] = ()
    early: Predicate | None = None  # the WHERE terms a join applies to the first table first


class _Parser:
    def __init__(self, text: str, tz: dt.tzinfo = dt.UTC) -> None:
        self.tz = tz
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.strip().rstrip(";")
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise SuiteQLError(f"Invalid search query: unexpected text at {text[pos:][:20]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.pos = 0
        self.prefixes: set[str] = set()
        self.term_columns: set[str] = set()  # aliases the WHERE term being parsed reads

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def keyword(self, *words: str) -> bool:
        """Consume the keyword sequence if it is next."""
        for offset, word in enumerate(words):
            kind, value = self.peek(offset)
            if kind != "ident" or value.lower() != word:
                return False
        self.pos += len(words)
        return True

    def expect(self, *words: str) -> None:
        if not self.keyword(*words):
            raise SuiteQLError(f"Invalid search query: expected {' '.join(words).upper()}")

    def symbol(self, sym: str) -> bool:
        if self.peek() == ("op", sym):
            self.pos += 1
            return True
        return False

    def need(self, sym: str) -> None:
        if not self.symbol(sym):
            raise SuiteQLError(f"Invalid search query: expected {sym!r} near {self.peek()[1]!r}")

    def name(self) -> str:
        kind, value = self.peek()
        if kind != "ident" or value.lower() in _KEYWORDS:
            raise SuiteQLError(f"Invalid search query: expected a name near {value!r}")
        self.pos += 1
        return value.lower()

    # -- grammar ---------------------------------------------------------------------------

    def query(self) -> Query:
        self.expect("select")
        star = self.symbol("*")
        raw_columns = [] if star else self.select_list()
        self.expect("from")
        table = self.name()
        alias = self.alias(table)
        aliases = {table, alias}
        joins: list[Join] = []
        while (outer := self.join_keyword()) is not None:
            joined = self.name()
            joined_alias = self.alias(joined)
            joins.append(self.join(joined, joined_alias, outer, aliases))
            aliases |= {joined, joined_alias}
        where, early = self.where_clause({table, alias}) if self.keyword("where") else (None, None)
        order: list[tuple[Operand, bool]] = []
        if self.keyword("order", "by"):
            while True:
                value = self.operand()
                descending = self.keyword("desc")
                if not descending:
                    self.keyword("asc")
                order.append((value, descending))
                if not self.symbol(","):
                    break
        if self.peek()[0] != "end":
            raise SuiteQLError(f"Invalid search query: unexpected {self.peek()[1]!r}")
        if self.prefixes - aliases:
            unknown = sorted(self.prefixes - aliases)[0]
            raise SuiteQLError(f"Invalid search query: unknown table alias {unknown!r}")
        columns = None if star else raw_columns
        return Query(table, columns, where, order, alias, tuple(joins), early if joins else None)

    def where_clause(self, base: set[str]) -> tuple[Predicate, Predicate | None]:
        """The WHERE predicate, and the part of it that only reads the first table (top-level
        AND terms naming its alias alone), which a join applies before joining."""
        start = self.pos
        where = self.condition()
        end, self.pos = self.pos, start
        early: list[Predicate] = []
        while True:
            self.term_columns = set()
            term = self.negation()
            if self.term_columns and self.term_columns <= base:
                early.append(term)
            if not self.keyword("and"):
                break
        if self.pos != end:  # an OR at the top: nothing can be applied early
            early = []
        self.pos = end
        return where, (lambda row: all(t(row) for t in early)) if early else None

    def alias(self, table: str) -> str:
        if self.peek()[0] == "ident" and self.peek()[1].lower() not in _KEYWORDS:
            return self.name()
        return table

    def join_keyword(self) -> bool | None:
        """True for a LEFT [OUTER] JOIN, False for [INNER] JOIN, None when no join follows."""
        if self.keyword("join") or self.keyword("inner", "join"):
            return False
        if self.keyword("left", "join") or self.keyword("left", "outer", "join"):
            return True
        return None

    def join(self, table: str, alias: str, outer: bool, earlier: set[str]) -> Join:
        self.expect("on")
        keys: list[tuple[str, str]] = []
        while True:
            left, right = self.qualified(), None
            self.need("=")
            right = self.qualified()
            sides = {left.split(".")[0]: left, right.split(".")[0]: right}
            if alias not in sides or not set(sides) - {alias} <= earlier or len(sides) != 2:
                raise SuiteQLError(
                    "Invalid search query: a join condition compares a column of the joined "
                    "table with a column of an earlier one"
                )
            other = next(v for k, v in sides.items() if k != alias)
            keys.append((sides[alias], other))
            if not self.keyword("and"):
                return Join(table, alias, outer, keys)

    def qualified(self) -> str:
        kind, value = self.peek()
        if kind != "ident" or "." not in value:
            raise SuiteQLError(f"Invalid search query: expected alias.column near {value!r}")
        self.pos += 1
        return value.lower()

    def select_list(self) -> list[tuple[Operand, str]]:
        columns = []
        while True:
            start = self.pos
            value = self.operand()
            label = self.tokens[start][1].lower().split(".")[-1]
            if self.keyword("as") or (
                self.peek()[0] == "ident" and self.peek()[1].lower() not in _KEYWORDS
            ):
                label = self.name()
            columns.append((value, label))
            if not self.symbol(","):
                return columns

    def condition(self) -> Predicate:
        terms = [self.conjunction()]
        while self.keyword("or"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else lambda row: any(t(row) for t in terms)

    def conjunction(self) -> Predicate:
        terms = [self.negation()]
        while self.keyword("and"):
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else lambda row: all(t(row) for t in terms)

    def negation(self) -> Predicate:
        if self.keyword("not"):
            inner = self.negation()
            return lambda row: not inner(row)
        if self.symbol("("):  # operands are never parenthesised, so '(' opens a condition
            inner = self.condition()
            self.need(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        left = self.operand()
        kind, value = self.peek()
        if kind == "op" and value in _COMPARE:
            self.pos += 1
            right, test = self.operand(), _COMPARE[value]
            return lambda row: (c := compare(left(row), right(row))) is not None and test(c)
        if self.keyword("is"):
            negate = self.keyword("not")
            self.expect("null")
            return lambda row: (left(row) is None) != negate
        negate = self.keyword("not")
        if self.keyword("in"):
            self.need("(")
            options = [self.operand()]
            while self.symbol(","):
                options.append(self.operand())
            self.need(")")
            member = _constant_membership(options)
            if member is not None:  # a long IN list of IDs: a set lookup, not a scan per row
                return lambda row: ((v := left(row)) is not None and member(v)) != negate
            return lambda row: (
                ((v := left(row)) is not None and any(compare(v, o(row)) == 0 for o in options))
                != negate
            )
        if self.keyword("like"):
            pattern = self.operand()
            return lambda row: (
                (
                    (v := left(row)) is not None
                    and like(str(pattern(row))).fullmatch(str(v)) is not None
                )
                != negate
            )
        if self.keyword("between"):
            low = self.operand()
            self.expect("and")
            high = self.operand()
            return lambda row: (
                (
                    (a := compare(left(row), low(row))) is not None
                    and (b := compare(left(row), high(row))) is not None
                    and a >= 0
                    and b <= 0
                )
                != negate
            )
        raise SuiteQLError(f"Invalid search query: expected a comparison near {value!r}")

    def operand(self) -> Operand:
        kind, value = self.peek()
        self.pos += 1
        if kind == "string":
            return _Const(value[1:-1].replace("''", "'"))
        if kind == "number":
            return _Const(Decimal(value))
        if kind != "ident":
            raise SuiteQLError(f"Invalid search query: unexpected {value!r}")
        word = value.lower()
        if self.symbol("("):
            return self.function(word)
        if word == "null":
            return lambda row: None
        if word in ("sysdate", "current_date", "current_timestamp"):
            return lambda row: dt.datetime.now(dt.UTC)
        if word in _KEYWORDS:
            raise SuiteQLError(f"Invalid search query: unexpected {value!r}")
        prefix, _, column = word.rpartition(".")
        if prefix:
            self.prefixes.add(prefix)  # checked once FROM has named the aliases
            self.term_columns.add(prefix)
            # joined rows carry "alias.column" keys; a single table's rows only "column"
            return lambda row: row[word] if word in row else row.get(column)
        self.term_columns.add("")  # unqualified: any table's
        return lambda row: row.get(column)

    def function(self, name: str) -> Operand:
        args = [self.operand()]
        while self.symbol(","):
            args.append(self.operand())
        self.need(")")
        if name == "to_date" and len(args) == 2:
            text, fmt = str(args[0]({})), str(args[1]({}))
            try:
                moment = to_date(text, fmt, self.tz)
            except FormatError as exc:
                raise SuiteQLError(f"Invalid search query: TO_DATE: {exc}") from None
            return lambda row: moment
        if name == "to_char" and len(args) == 2:
            inner, fmt = args[0], str(args[1]({}))
            try:
                to_char(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), fmt)  # ORA-01821 up front
            except FormatError as exc:
                raise SuiteQLError(f"Invalid search query: TO_CHAR: {exc}") from None
            return lambda row: _to_char(inner(row), fmt, self.tz)
        if name in ("upper", "lower") and len(args) == 1:
            inner, method = args[0], str.upper if name == "upper" else str.lower
            return lambda row: None if (v := inner(row)) is None else method(str(v))
        raise SuiteQLError(f"Invalid search query: unsupported function {name.upper()}")


def parse(text: str, tz: dt.tzinfo = dt.UTC) -> Query:
    """Parse one SuiteQL SELECT; raise SuiteQLError on anything outside the subset. `tz` is the
    account time zone TO_CHAR shows datetimes in and TO_DATE reads text in."""
    return _Parser(text, tz).query()


def _to_char(value: Any, fmt: str, tz: dt.tzinfo) -> Any:
    """A datetime in the account's time zone, a date as the calendar date it is."""
    if isinstance(value, dt.datetime):
        return to_char(value.astimezone(tz), fmt)
    if isinstance(value, dt.date):
        return to_char(dt.datetime(value.year, value.month, value.day, tzinfo=tz), fmt)
    moment = to_datetime(value)
    return to_char(moment.astimezone(tz), fmt) if moment else value


class _Const:
    """A literal operand; IN lists made only of literals are matched through a set."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, row: Any) -> Any:
        return self.value


def _constant_membership(options: list[Operand]) -> Callable[[Any], bool] | None:
    """Set-based `value IN (literals)` with `compare`'s semantics (numbers compare as numbers
    when either side is one, text as text), or None when the list is not all literals."""
    if not all(isinstance(o, _Const) for o in options):
        return None
    values = [o.value for o in options if isinstance(o, _Const)]
    texts = {v for v in values if isinstance(v, str)}
    numbers = {n for n in map(_as_number, values) if n is not None}
    numeric_literals = {v for v in values if isinstance(v, Decimal)}

    def member(value: Any) -> bool:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return _as_number(value) in numbers
        if isinstance(value, str):
            if value in texts:
                return True
            return bool(numeric_literals) and _as_number(value) in numeric_literals
        return any(compare(value, v) == 0 for v in values)

    return member


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return None
    return None
