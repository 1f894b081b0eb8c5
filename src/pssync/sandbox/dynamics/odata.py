"""The OData query options the emulator understands: $select, $filter, $orderby, $top, paging.

Follows "Query data using the Web API"
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview),
"Filter rows" (comparison operators eq ne gt ge lt le, logical and or not, parentheses; string
comparisons are not case-sensitive, as in Dataverse's database collation) and "Page results"
(https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results):
``Prefer: odata.maxpagesize=N`` (at most 5,000, the default), ``@odata.nextLink`` carrying a
``$skiptoken`` paging cookie, no ``$skip``. The cookie holds the last row's sort key (the
$orderby columns and then the primary key, which Dataverse adds to every ordering), so a page
starts after that key: rows written while a client pages cannot shift a boundary.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from pssync.sandbox.dynamics.entities import Record, Table
from pssync.sandbox.dynamics.errors import BAD_QUERY, DataverseError

MAX_PAGE = 5000
TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<paren>[()])|(?P<comma>,)"
    r"|(?P<word>[A-Za-z0-9_.:+\-]+))"
)
COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
Predicate = Callable[[Record], bool]


def bad(message: str) -> DataverseError:
    return DataverseError(400, BAD_QUERY, message)


def _column(table: Table, name: str) -> str:
    if name not in table.by_name:
        raise bad(f"Could not find a property named '{name}' on type '{table.type_name()}'.")
    return name


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if match is None:
            raise bad(f"Syntax error at position {pos} in '{text}'.")
        out.append(match.group().strip())
        pos = match.end()
    return out


def literal(token: str) -> Any:
    """An OData literal: 'text', null, true/false, a number, a date(time) or a GUID."""
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token in ("null", "true", "false"):
        return {"null": None, "true": True, "false": False}[token]
    if re.fullmatch(r"-?\d+(\.\d+)?", token):
        return Decimal(token)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})", token):
        return dt.datetime.fromisoformat(token.replace("Z", "+00:00"))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}|[0-9a-fA-F-]{36}", token):
        return token.lower()
    raise bad(f"Unrecognized literal '{token}'.")


def comparable(value: Any, like: Any) -> Any:
    """A stored value in the shape of the literal it is compared with."""
    if value is None or like is None:
        return value
    if isinstance(like, dt.datetime):
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if isinstance(like, Decimal) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    if isinstance(value, str):
        return value.casefold()
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(right, str):
        right = right.casefold()
    if op in ("eq", "ne"):
        return bool((left == right) == (op == "eq"))
    if left is None or right is None:
        return False
    try:
        return bool(
            {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
        )
    except TypeError:
        raise bad(f"Cannot compare {left!r} with {right!r}.") from None


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) or b(r)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) and b(r)


class _Parser:
    def __init__(self, table: Table, tokens: list[str]) -> None:
        self.table, self.tokens, self.pos = table, tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise bad("Unexpected end of $filter.")
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == "or":
            self.take()
            left = _either(left, self.conjunction())
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.peek() == "and":
            self.take()
            left = _both(left, self.unary())
        return left

    def unary(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            if self.take() != ")":
                raise bad("Expected ')' in $filter.")
            return inner
        name = _column(self.table, self.take())
        op = self.take()
        if op not in COMPARE:
            raise bad(f"The operator '{op}' is not supported in $filter.")
        value = literal(self.take())
        return lambda r: _compare(op, comparable(r.get(name), value), value)


def parse_filter(table: Table, text: str | None) -> Predicate:
    if not text:
        return lambda r: True
    parser = _Parser(table, _tokens(text))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise bad(f"Syntax error: unexpected '{parser.peek()}' in $filter.")
    return predicate


def parse_select(table: Table, text: str | None) -> list[str] | None:
    if not text:
        return None
    return [_column(table, n.strip()) for n in text.split(",") if n.strip()]


def parse_orderby(table: Table, text: str | None) -> list[tuple[str, bool]]:
    """(column, descending) pairs, the primary key last."""
    order: list[tuple[str, bool]] = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, direction = part.partition(" ")
        if direction.strip() not in ("", "asc", "desc"):
            raise bad(f"Invalid $orderby direction '{direction}'.")
        order.append((_column(table, name), direction.strip() == "desc"))
    if table.id_field not in (n for n, _ in order):
        order.append((table.id_field, False))
    return order


def sort_key(order: list[tuple[str, bool]], row: Record) -> tuple[Any, ...]:
    """A key sorting rows by `order` (nulls first, as SQL Server sorts them)."""
    parts: list[Any] = []
    for name, desc in order:
        value = row.get(name)
        text = "" if value is None else str(value).casefold()
        if (isinstance(value, int | float) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value)
        ):
            text = f"{Decimal(value):032.6f}"
        parts.append(Desc(text) if desc else text)
    return tuple(parts)


class Desc(str):
    """A string sorting in reverse."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)


def page_size(prefer: str | None) -> int:
    """``odata.maxpagesize`` of a Prefer header (5,000 when absent or larger)."""
    for part in (prefer or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, min(int(value), MAX_PAGE))
    return MAX_PAGE


def prefers(prefer: str | None, what: str) -> bool:
    return any(p.strip() == what for p in (prefer or "").split(","))


def skiptoken(page: int, last: tuple[Any, ...]) -> str:
    """A paging cookie in Dataverse's shape, carrying the last row's sort key."""
    cookie = urllib.parse.quote(json.dumps([str(v) for v in last]))
    return f'<cookie pagenumber="{page}" pagingcookie="{cookie}" istracking="False" />'


def read_skiptoken(text: str) -> tuple[int, tuple[str, ...]]:
    match = re.search(r'pagenumber="(\d+)" pagingcookie="([^"]*)"', text)
    if match is None:
        raise bad("The $skiptoken is not a valid paging cookie.")
    try:
        last = json.loads(urllib.parse.unquote(match.group(2)))
    except ValueError:
        raise bad("The $skiptoken is not a valid paging cookie.") from None
    return int(match.group(1)), tuple(str(v) for v in last)
