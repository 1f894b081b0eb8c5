"""ServiceNow encoded queries (`sysparm_query`): conditions, `^OR`, `^NQ`, `ORDERBY[DESC]`.

An encoded query is a `^`-separated list of terms. `field<op>value` terms are ANDed; a term that
starts with `OR` is ORed with the one before it; `^NQ` starts a new query whose rows are added
(OR) to the previous ones; `ORDERBYfield` / `ORDERBYDESCfield` sort. Operators: `=`, `!=`, `>`,
`>=`, `<`, `<=`, `BETWEEN` (`low@high`), `LIKE` (contains, case-insensitive), `NOTLIKE` / `NOT
LIKE`, `STARTSWITH`, `ENDSWITH`, `IN`, `NOT IN`, `ISEMPTY`, `ISNOTEMPTY`. ServiceNow values are
strings; numeric strings compare as numbers and `YYYY-MM-DD HH:MM:SS` datetimes compare
correctly as text.

A term naming a field the table does not have matches nothing, like an instance with
`glide.invalid_query.returns_no_rows` set (the secure default) rather than silently matching all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
Test = Callable[[Row], bool]

_OPERATORS = (
    "ISNOTEMPTY",
    "ISEMPTY",
    "NOT IN",
    "NOT LIKE",
    "NOTLIKE",
    "BETWEEN",
    "STARTSWITH",
    "ENDSWITH",
    "LIKE",
    "IN",
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
)


@dataclass(frozen=True)
class EncodedQuery:
    test: Test
    order: list[tuple[str, bool]]  # (field, descending)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(left: str, right: str) -> int:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    return (left > right) - (left < right)


def _split(term: str, fields: set[str]) -> tuple[str, str, str] | None:
    """(field, operator, value): the longest known field name followed by an operator.

    Operators like LIKE run straight on from the field name (`short_descriptionLIKEsync`), so
    the split needs the table's field names, as the platform's own parser does."""
    for end in range(len(term), 0, -1):
        name, rest = term[:end], term[end:]
        if name in fields:
            op = next((o for o in _OPERATORS if rest.startswith(o)), None)
            if op is not None:
                return name, op, rest[len(op) :]
    return None


def _condition(term: str, fields: set[str]) -> Test:
    parts = _split(term, fields)
    if parts is None:
        return lambda row: False
    name, op, value = parts
    low, _, high = value.partition("@")  # BETWEEN low@high, inclusive

    def text(row: Row) -> str:
        raw = row.get(name)
        return "" if raw is None else str(raw)

    tests: dict[str, Test] = {
        "ISEMPTY": lambda row: text(row) == "",
        "ISNOTEMPTY": lambda row: text(row) != "",
        "=": lambda row: text(row) == value,
        "!=": lambda row: text(row) != value,
        "LIKE": lambda row: value.lower() in text(row).lower(),
        "NOTLIKE": lambda row: value.lower() not in text(row).lower(),
        "NOT LIKE": lambda row: value.lower() not in text(row).lower(),
        "BETWEEN": lambda row: (
            text(row) != "" and _compare(text(row), low) >= 0 and _compare(text(row), high) <= 0
        ),
        "STARTSWITH": lambda row: text(row).lower().startswith(value.lower()),
        "ENDSWITH": lambda row: text(row).lower().endswith(value.lower()),
        "IN": lambda row: text(row) in value.split(","),
        "NOT IN": lambda row: text(row) not in value.split(","),
        ">": lambda row: text(row) != "" and _compare(text(row), value) > 0,
        ">=": lambda row: text(row) != "" and _compare(text(row), value) >= 0,
        "<": lambda row: text(row) != "" and _compare(text(row), value) < 0,
        "<=": lambda row: text(row) != "" and _compare(text(row), value) <= 0,
    }
    return tests[op]


def _group(terms: list[str], fields: set[str]) -> Test:
    """AND of OR-chains: `a^ORb^c` is (a OR b) AND c."""
    chains: list[list[Test]] = []
    for term in terms:
        if term.startswith("OR") and chains and not term.startswith("ORDERBY"):
            chains[-1].append(_condition(term[2:], fields))
        else:
            chains.append([_condition(term, fields)])
    return lambda row: all(any(t(row) for t in chain) for chain in chains)


def parse(text: str, fields: set[str]) -> EncodedQuery:
    """Compile an encoded query against a table whose field names are `fields`."""
    groups: list[Test] = []
    order: list[tuple[str, bool]] = []
    for part in filter(None, text.split("^NQ")):
        terms = []
        for term in filter(None, part.split("^")):
            if term.startswith("ORDERBYDESC"):
                order.append((term[len("ORDERBYDESC") :], True))
            elif term.startswith("ORDERBY"):
                order.append((term[len("ORDERBY") :], False))
            else:
                terms.append(term)
        if terms:
            groups.append(_group(terms, fields))
    if not groups:
        return EncodedQuery(lambda row: True, order)
    return EncodedQuery(lambda row: any(g(row) for g in groups), order)


def sort_key(value: Any) -> tuple[int, Any]:
    text = "" if value is None else str(value)
    number = _number(text)
    return (0, number) if number is not None else (1, text)
